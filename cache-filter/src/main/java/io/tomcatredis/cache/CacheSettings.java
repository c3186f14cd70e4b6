package io.tomcatredis.cache;

import io.tomcatredis.connection.InvalidSettingException;
import io.tomcatredis.connection.RedisConnectionSettings;
import io.tomcatredis.connection.Settings;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The filter's configuration, parsed once from its init-params. Connection params are those of
 * {@link RedisConnectionSettings}, shared with the session manager.
 */
record CacheSettings(RedisConnectionSettings connection, String keyPrefix, List<UrlRule> include,
        List<UrlRule> exclude, Set<String> allowedHosts, int maxEntryBytes, long maxCacheBytes,
        int lockTimeoutMillis, int staleSeconds, boolean earlyRefresh, int circuitBreakerMillis,
        List<String> ignoredCookies, List<String> ignoredHeaders, boolean cacheStatus, String cacheStatusName,
        boolean xCache, String forwardTagsHeader, long localTierBytes, int localTierMaxLagMillis) {

    static final String KEY_PREFIX = "keyPrefix";
    static final String INCLUDE = "include";
    static final String EXCLUDE = "exclude";
    static final String ALLOWED_HOSTS = "allowedHosts";
    static final String MAX_ENTRY_BYTES = "maxEntryBytes";
    static final String MAX_CACHE_BYTES = "maxCacheBytes";
    static final String LOCK_TIMEOUT_MILLIS = "lockTimeoutMillis";
    static final String STALE_SECONDS = "staleSeconds";
    static final String EARLY_REFRESH = "earlyRefresh";
    static final String CIRCUIT_BREAKER_MILLIS = "circuitBreakerMillis";
    static final String IGNORED_COOKIES = "ignoredCookies";
    static final String IGNORED_HEADERS = "ignoredHeaders";
    static final String CACHE_STATUS = "cacheStatus";
    static final String CACHE_STATUS_NAME = "cacheStatusName";
    static final String X_CACHE = "xCache";
    static final String FORWARD_TAGS_HEADER = "forwardTagsHeader";
    static final String LOCAL_TIER_BYTES = "localTierBytes";
    static final String LOCAL_TIER_MAX_LAG_MILLIS = "localTierMaxLagMillis";
    /** An RFC 8941 token, as RFC 9211 wants the cache's name. */
    private static final Pattern TOKEN = Pattern.compile(
            "[A-Za-z*][A-Za-z0-9!#$%&'*+.^_`|~:/-]*");

    static CacheSettings parse(Function<String, String> params, String contextPath) {
        RedisConnectionSettings connection = RedisConnectionSettings.parse(params);
        Settings settings = new Settings(params);
        String keyPrefix = settings.string(KEY_PREFIX, "tomcat-cache:" + (contextPath.isEmpty() ? "/" : contextPath)
                + ":");
        if (keyPrefix.indexOf('{') >= 0 || keyPrefix.indexOf('}') >= 0) {
            throw new InvalidSettingException(KEY_PREFIX, "\"" + keyPrefix + "\" must not contain '{' or '}'");
        }
        List<UrlRule> include = UrlRule.parseAll(INCLUDE, settings.string(INCLUDE, null), 60);
        List<UrlRule> exclude = UrlRule.parseAll(EXCLUDE, settings.string(EXCLUDE, null), 0);
        if (include.isEmpty()) {
            throw new InvalidSettingException(INCLUDE, "is required: list the URL patterns to cache, e.g."
                    + " \"/static/* 86400, /catalog/* 60\"");
        }
        String hosts = settings.string(ALLOWED_HOSTS, null);
        if (hosts == null) {
            throw new InvalidSettingException(ALLOWED_HOSTS, "is required: the host names this site answers to,"
                    + " e.g. \"shop.example.com, localhost\"; requests for any other Host are not cached");
        }
        Set<String> allowedHosts = Arrays.stream(hosts.split(",")).map(String::trim).filter(h -> !h.isEmpty())
                .map(h -> h.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
        int maxEntryBytes = settings.integer(MAX_ENTRY_BYTES, 1024 * 1024, 1, Integer.MAX_VALUE);
        // Beyond an int: on Redis Cluster the cache scales out past 2 GiB. Up to 2^50 (1 PiB): the
        // scripts count bytes in Lua numbers (doubles), exact to 2^53.
        long maxCacheBytes = settings.integer(MAX_CACHE_BYTES, 64L * 1024 * 1024, 1L, 1L << 50);
        int lockTimeoutMillis = settings.integer(LOCK_TIMEOUT_MILLIS, 5000, 1, 600_000);
        int staleSeconds = settings.integer(STALE_SECONDS, 0, 0, 86_400 * 30);
        boolean earlyRefresh = settings.bool(EARLY_REFRESH, false);
        int circuitBreakerMillis = settings.integer(CIRCUIT_BREAKER_MILLIS, 10_000, 0, 3_600_000);
        List<String> ignoredCookies = ignoredCookies(settings.string(IGNORED_COOKIES, ""));
        List<String> ignoredHeaders = ignoredHeaders(settings.string(IGNORED_HEADERS, ""));
        boolean cacheStatus = settings.bool(CACHE_STATUS, true);
        String cacheStatusName = settings.string(CACHE_STATUS_NAME, "tomcat-redis");
        if (!TOKEN.matcher(cacheStatusName).matches()) {
            throw new InvalidSettingException(CACHE_STATUS_NAME, "\"" + cacheStatusName + "\" is not a token (RFC 8941:"
                    + " a letter or *, then letters, digits and !#$%&'*+-.^_`|~:/)");
        }
        boolean xCache = settings.bool(X_CACHE, true);
        String forwardTagsHeader = settings.string(FORWARD_TAGS_HEADER, "").trim();
        if (!forwardTagsHeader.isEmpty() && !forwardTagsHeader.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
            throw new InvalidSettingException(FORWARD_TAGS_HEADER, "\"" + forwardTagsHeader + "\" is not a header"
                    + " name, e.g. Surrogate-Key, Cache-Tag or Cache-Groups");
        }
        // Off by default: copies in the heap are served up to localTierMaxLagMillis after another node's purge.
        long localTierBytes = settings.integer(LOCAL_TIER_BYTES, 0, 0, Integer.MAX_VALUE);
        int localTierMaxLagMillis = settings.integer(LOCAL_TIER_MAX_LAG_MILLIS, 1000, 100, 60_000);
        return new CacheSettings(connection, keyPrefix, include, exclude, allowedHosts, maxEntryBytes, maxCacheBytes,
                lockTimeoutMillis, staleSeconds, earlyRefresh, circuitBreakerMillis, ignoredCookies, ignoredHeaders,
                cacheStatus, cacheStatusName, xCache, forwardTagsHeader.isEmpty() ? null : forwardTagsHeader,
                localTierBytes, localTierMaxLagMillis);
    }

    /**
     * Request header names (lower case, exact, or a prefix ending in {@code *}) that never identify
     * a user, beyond the built-in list of {@link RequestClassifier#NEUTRAL_HEADERS}.
     */
    private static List<String> ignoredHeaders(String raw) {
        List<String> names = Arrays.stream(raw.split(",")).map(String::trim).filter(n -> !n.isEmpty())
                .map(n -> n.toLowerCase(Locale.ROOT)).toList();
        for (String name : names) {
            int star = name.indexOf('*');
            if (star >= 0 && (star != name.length() - 1 || star == 0)) {
                throw new InvalidSettingException(IGNORED_HEADERS, "\"" + name + "\" may only end with * (a prefix of"
                        + " at least one character) or have no * (an exact header name)");
            }
            if (RequestClassifier.IDENTIFYING_HEADERS.contains(name.endsWith("*") ? name.substring(0, star) : name)) {
                throw new InvalidSettingException(IGNORED_HEADERS, "\"" + name + "\" names a header that carries"
                        + " credentials or cookies: a request carrying it belongs to a user");
            }
        }
        return names;
    }

    /** Whether the request header {@code name} is one of {@code ignoredHeaders} (case-insensitive). */
    boolean headerIgnored(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        for (String ignored : ignoredHeaders) {
            if (ignored.endsWith("*") ? lower.startsWith(ignored.substring(0, ignored.length() - 1))
                    : lower.equals(ignored)) {
                return true;
            }
        }
        return false;
    }

    /** Cookie names (exact, or a prefix ending in {@code *}) that never personalize a page. */
    private static List<String> ignoredCookies(String raw) {
        List<String> names = Arrays.stream(raw.split(",")).map(String::trim).filter(n -> !n.isEmpty()).toList();
        for (String name : names) {
            int star = name.indexOf('*');
            if (star >= 0 && (star != name.length() - 1 || star == 0)) {
                throw new InvalidSettingException(IGNORED_COOKIES, "\"" + name + "\" may only end with * (a prefix of"
                        + " at least one character) or have no * (an exact cookie name)");
            }
            if (name.equalsIgnoreCase("JSESSIONID") || name.equalsIgnoreCase("JSESSIONID*")) {
                throw new InvalidSettingException(IGNORED_COOKIES, "\"" + name + "\" names the session cookie:"
                        + " a request carrying it belongs to a user");
            }
        }
        return names;
    }

    /** Whether the cookie {@code name} is one of {@code ignoredCookies} (case-sensitive, as cookie names are). */
    boolean cookieIgnored(String name) {
        for (String ignored : ignoredCookies) {
            if (ignored.endsWith("*") ? name.startsWith(ignored.substring(0, ignored.length() - 1))
                    : name.equals(ignored)) {
                return true;
            }
        }
        return false;
    }

    /** The default TTL for {@code path}, or -1 when the path is not to be cached. */
    long ruleTtlSeconds(String path) {
        for (UrlRule rule : exclude) {
            if (rule.matches(path)) {
                return -1;
            }
        }
        for (UrlRule rule : include) {
            if (rule.matches(path)) {
                return rule.ttlSeconds();
            }
        }
        return -1;
    }

    /**
     * Whether a {@code Cookie} header value carries a cookie that is not ignored, or is malformed:
     * a pair without {@code =}, or a value outside RFC 6265's cookie-octets (section 4.1.1: no
     * space, comma, double quote but around the value, backslash, semicolon or control character).
     * Parsers that split on commas, as RFC 2965 did, read {@code _ga=1, SESSION=alice} as two
     * cookies, one of them personal; in doubt, the header is personal.
     */
    boolean personalCookie(String header) {
        for (String pair : header.split(";")) {
            // Only spaces and tabs around a pair are optional whitespace; trim() would drop control characters.
            String trimmed = pair.replaceAll("^[ \t]+|[ \t]+$", "");
            if (trimmed.isEmpty()) {
                continue;
            }
            int equals = trimmed.indexOf('=');
            if (equals < 0 || !cookieIgnored(trimmed.substring(0, equals).trim())
                    || !cookieOctets(trimmed.substring(equals + 1))) {
                return true;
            }
        }
        return false;
    }

    /** RFC 6265 4.1.1 {@code cookie-value}: cookie-octets, optionally inside one pair of double quotes. */
    private static boolean cookieOctets(String value) {
        String bare = value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")
                ? value.substring(1, value.length() - 1) : value;
        for (int i = 0; i < bare.length(); i++) {
            char c = bare.charAt(i);
            if (c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\') {
                return false;
            }
        }
        return true;
    }
}
