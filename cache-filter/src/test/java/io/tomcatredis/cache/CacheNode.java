package io.tomcatredis.cache;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;

/** One embedded Tomcat with {@link RedisCacheFilter} in front of {@link PageServlet} at /shop. */
final class CacheNode implements AutoCloseable {

    private final Tomcat tomcat;
    private final Context context;
    private final int port;

    private CacheNode(Tomcat tomcat, Context context, int port) {
        this.tomcat = tomcat;
        this.context = context;
        this.port = port;
    }

    static CacheNode start(String name, Map<String, String> initParams) {
        return start(name, initParams, context -> { });
    }

    /**
     * @param ahead called before the cache filter is added: filters mapped there run ahead of it,
     *     and context settings (response encoding, cookies) apply to every page
     */
    static CacheNode start(String name, Map<String, String> initParams, Consumer<Context> ahead) {
        try {
            Path base = Files.createTempDirectory("cache-" + name + "-");
            Tomcat tomcat = new Tomcat();
            tomcat.setBaseDir(base.toString());
            Connector connector = new Connector();
            connector.setPort(0);
            connector.setProperty("address", "127.0.0.1");
            tomcat.setConnector(connector);
            tomcat.getEngine().setName(name);
            Files.createDirectories(base.resolve("docs"));
            Context context = tomcat.addContext("/shop", base.resolve("docs").toString());
            ahead.accept(context);
            FilterDef filter = new FilterDef();
            filter.setFilterName("page-cache");
            filter.setFilterClass(RedisCacheFilter.class.getName());
            initParams.forEach(filter::addInitParameter);
            context.addFilterDef(filter);
            FilterMap mapping = new FilterMap();
            mapping.setFilterName("page-cache");
            mapping.addURLPattern("/*");
            context.addFilterMap(mapping);
            Tomcat.addServlet(context, "pages", new PageServlet());
            context.addServletMappingDecoded("/", "pages");
            tomcat.start();
            if (context.getState() != LifecycleState.STARTED) {
                tomcat.stop();
                tomcat.destroy();
                throw new IllegalStateException("Context /shop of " + name + " did not start");
            }
            return new CacheNode(tomcat, context, connector.getLocalPort());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (LifecycleException e) {
            throw new IllegalStateException(e);
        }
    }

    String url(String pathAndQuery) {
        return "http://127.0.0.1:" + port + "/shop" + pathAndQuery;
    }

    int port() {
        return port;
    }

    /** Reloads the webapp, as the Manager app or a redeploy does: the filter is destroyed and initialized again. */
    void reload() {
        context.reload();
    }

    RedisCache cache() {
        return RedisCache.of(context.getServletContext());
    }

    @Override
    public void close() {
        try {
            tomcat.stop();
            tomcat.destroy();
        } catch (LifecycleException e) {
            throw new IllegalStateException(e);
        }
    }
}
