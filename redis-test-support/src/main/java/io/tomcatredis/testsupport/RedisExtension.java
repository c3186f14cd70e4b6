package io.tomcatredis.testsupport;

import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Gives a test class a real Redis deployment, started before its first test and stopped after its
 * last one, also when tests fail. Register it on a static field:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();
 * ...
 * String uri = REDIS.get().uri();
 * }</pre>
 *
 * <p>The servers are Redis' ({@code redis-server}) unless the system property
 * {@value RedisServer#PROPERTY} says {@code valkey}, or the options choose one
 * ({@link RedisOptions#withServer}); the server and version that ran are published as a report
 * entry {@value RedisServer#PROPERTY} and printed.
 *
 * <p>A JVM interrupted mid-run still loses its Redis processes: a shutdown hook kills them, and a
 * JVM killed outright leaves a pid record the next test JVM sweeps.
 */
public final class RedisExtension<T extends RedisDeployment> implements BeforeAllCallback, AfterAllCallback {

    private final Supplier<T> starter;
    private T deployment;

    private RedisExtension(Supplier<T> starter) {
        this.starter = starter;
    }

    public static <T extends RedisDeployment> RedisExtension<T> of(Supplier<T> starter) {
        return new RedisExtension<>(starter);
    }

    public static RedisExtension<StandaloneRedis> standalone() {
        return of(StandaloneRedis::start);
    }

    public static RedisExtension<StandaloneRedis> standalone(RedisOptions options) {
        return of(() -> StandaloneRedis.start(options));
    }

    public static RedisExtension<SentinelRedis> sentinel() {
        return of(SentinelRedis::start);
    }

    public static RedisExtension<ClusterRedis> cluster(int masters, int replicasPerMaster) {
        return of(() -> ClusterRedis.start(masters, replicasPerMaster, RedisOptions.DEFAULTS));
    }

    /** The running deployment; only valid between the class's first and last test. */
    public T get() {
        if (deployment == null) {
            throw new IllegalStateException("Redis is not started: register the extension on a static field");
        }
        return deployment;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        deployment = starter.get();
        // Which server ran the class, in its report (and its output file): -Dredis.server chooses it.
        String server = deployment.serverVersion();
        context.publishReportEntry(RedisServer.PROPERTY, server);
        System.out.println(context.getDisplayName() + " runs on " + server);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (deployment != null) {
            try {
                deployment.close();
            } finally {
                deployment = null;
            }
        }
    }
}
