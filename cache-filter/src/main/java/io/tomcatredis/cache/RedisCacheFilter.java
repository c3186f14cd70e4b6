package io.tomcatredis.cache;

import com.github.benmanes.caffeine.cache.Ticker;
import io.tomcatredis.connection.AclCheck;
import io.tomcatredis.connection.ConnectionMetrics;
import io.tomcatredis.connection.InvalidSettingException;
import io.tomcatredis.connection.RedisClientHolder;
import io.tomcatredis.connection.RedisConnector;
import io.tomcatredis.connection.metrics.MBeanRegistrations;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.util.function.Consumer;
import java.util.logging.Logger;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * A servlet filter that caches static assets and rendered pages in Redis, shared by all users
 * and all nodes. Works in any Servlet 6 container; configured by init-params:
 *
 * <pre>{@code
 * <filter>
 *   <filter-name>page-cache</filter-name>
 *   <filter-class>io.tomcatredis.cache.RedisCacheFilter</filter-class>
 *   <init-param><param-name>redisUri</param-name><param-value>redis://localhost:6379</param-value></init-param>
 *   <init-param><param-name>include</param-name><param-value>/static/* 86400, /catalog/* 60</param-value></init-param>
 *   <init-param><param-name>allowedHosts</param-name><param-value>shop.example.com</param-value></init-param>
 * </filter>
 * }</pre>
 *
 * Nothing personal is ever stored, and in doubt a request passes: requests with cookies (other
 * than {@code ignoredCookies}) or credentials, headers outside an allow-list of ones that never
 * identify a user (extended by {@code ignoredHeaders}), a session id or an authenticated user share nothing
 * unless the response says {@code public}; a response is kept only when the application read
 * nothing personal or outside the key to build it, set no cookie, and did not mark it private.
 * The decision is a pipeline of named phases ({@link PageCache}); README lists them. With
 * {@code localTierBytes} set, hot entries are also kept in this node's heap ({@link LocalTier}),
 * dropped when any node changes them in Redis ({@link InvalidationSubscriber}).
 */
public class RedisCacheFilter implements Filter {

    private static final Logger LOG = Logger.getLogger(RedisCacheFilter.class.getName());

    private RedisClientHolder redis;
    private PageCache cache;
    private InvalidationSubscriber invalidations;
    private ObjectName mbeanName;
    private MBeanRegistrations metrics;

    @Override
    public void init(FilterConfig config) throws ServletException {
        CacheSettings settings;
        try {
            settings = CacheSettings.parse(config::getInitParameter, config.getServletContext().getContextPath());
        } catch (InvalidSettingException e) {
            throw new ServletException("RedisCacheFilter " + config.getFilterName() + ": " + e.getMessage(), e);
        }
        // Never fails for an unreachable Redis: requests pass through to the application until it answers.
        ConnectionMetrics pool = new ConnectionMetrics();
        redis = RedisConnector.connect(settings.connection(), "tomcat-redis-cache", pool);
        Clock clock = Clock.systemUTC();
        CacheKeys keys = CacheKeys.of(settings.keyPrefix(), settings.connection().topology());
        warnIfEntriesCannotFit(settings, keys);
        boolean localTierOn = settings.localTierBytes() > 0;
        CacheStore store = new CacheStore(redis, keys, clock, localTierOn);
        CacheStatistics statistics = new CacheStatistics(store::bytesStored);
        LocalTier localTier = new LocalTier(keys, settings.localTierBytes(), settings.localTierMaxLagMillis(), clock,
                Ticker.systemTicker());
        if (localTierOn) {
            // A client of its own: a subscribed connection serves nothing else.
            invalidations = new InvalidationSubscriber(() -> RedisConnector.open(settings.connection(),
                    "tomcat-redis-cache-invalidations"), keys.invalidations(),
                    keys.buckets().stream().map(CacheKeys.Bucket::listeners).toList(),
                    3L * settings.localTierMaxLagMillis(), localTier, Ticker.systemTicker(),
                    Math.max(1, settings.localTierMaxLagMillis() / 5), RedisConnector.RECONNECT_MILLIS,
                    config.getServletContext().getContextPath() + " " + config.getFilterName());
            statistics.localTier(localTier);
        }
        checkPermissions(CacheAcl.check("RedisCacheFilter " + config.getFilterName() + " of "
                + config.getServletContext().getContextPath(), settings.connection().user(), settings.keyPrefix(), keys,
                localTierOn), statistics);
        cache = new PageCache(settings, store, statistics, clock, localTier);
        config.getServletContext().setAttribute(RedisCache.CONTEXT_ATTRIBUTE, new RedisCache(cache, statistics));
        mbeanName = register(statistics, config);
        metrics = CacheMetrics.register(config, statistics, store, localTierOn ? localTier : null, pool);
        LOG.info("Page cache of " + config.getServletContext().getContextPath() + " in " + settings.connection()
                + " under keyPrefix \"" + settings.keyPrefix() + "\" for " + settings.include() + ", hosts "
                + settings.allowedHosts() + (localTierOn ? ", local tier of " + settings.localTierBytes()
                + " bytes served while its invalidations lag less than " + settings.localTierMaxLagMillis() + " ms"
                : ""));
    }

    /**
     * On Cluster each of the buckets holds its share of {@code maxCacheBytes}: an entry larger than
     * that is never stored (bypass {@code over-budget}), though {@code maxEntryBytes} lets it be rendered for storing.
     */
    private static void warnIfEntriesCannotFit(CacheSettings settings, CacheKeys keys) {
        int buckets = keys.buckets().size();
        long share = settings.maxCacheBytes() / buckets;
        if (buckets > 1 && settings.maxEntryBytes() > share) {
            LOG.warning(CacheSettings.MAX_ENTRY_BYTES + " (" + settings.maxEntryBytes() + ") is larger than "
                    + CacheSettings.MAX_CACHE_BYTES + " (" + settings.maxCacheBytes() + ") / " + buckets
                    + " buckets on Redis Cluster = " + share + " bytes, the budget of each bucket: a response"
                    + " larger than about " + share + " bytes in Redis is never stored (bypass over-budget)."
                    + " Raise " + CacheSettings.MAX_CACHE_BYTES + " to at least " + buckets + " x "
                    + CacheSettings.MAX_ENTRY_BYTES + " or lower " + CacheSettings.MAX_ENTRY_BYTES);
        }
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (request instanceof HttpServletRequest http && response instanceof HttpServletResponse httpResponse) {
            cache.handle(http, httpResponse, chain);
        } else {
            chain.doFilter(request, response);
        }
    }

    @Override
    public void destroy() {
        if (metrics != null) {
            metrics.close();
        }
        if (mbeanName != null) {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(mbeanName);
            } catch (JMException e) {
                LOG.fine("MBean " + mbeanName + " was already gone: " + e);
            }
        }
        if (invalidations != null) {
            invalidations.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    /**
     * A user that lacks a permission the filter needs: SEVERE, and every request passes through
     * uncached from then on (a cache may be lost; the site stays up). Checked now, or on the first
     * call that reaches Redis when it cannot be reached now.
     */
    private void checkPermissions(AclCheck check, CacheStatistics statistics) {
        Consumer<AclCheck.Result> verdict = result -> {
            check.logLimits(result);
            String problem = check.problem(result);
            if (problem != null) {
                statistics.permissionDenied(problem);
                LOG.severe(problem + ". Every request passes through uncached until the webapp is reloaded with a"
                        + " user that has them (JMX: BypassesByReason redis-permission, metric redis_permission_denied)");
            }
        };
        try {
            verdict.accept(check.run(redis));
        } catch (JedisConnectionException e) {
            check.whenReachable(redis, verdict);
        } catch (JedisDataException e) {
            LOG.warning("The Redis permissions of the page cache's user could not be checked: " + e.getMessage());
        }
    }

    private static ObjectName register(CacheStatistics statistics, FilterConfig config) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            String context = config.getServletContext().getContextPath();
            ObjectName name = new ObjectName("io.tomcatredis:type=RedisCacheFilter,context="
                    + ObjectName.quote(context.isEmpty() ? "/" : context) + ",name="
                    + ObjectName.quote(config.getFilterName()) + ",instance=" + System.identityHashCode(statistics));
            server.registerMBean(statistics, name);
            return name;
        } catch (JMException e) {
            LOG.warning("Cache statistics are not available over JMX: " + e);
            return null;
        }
    }
}
