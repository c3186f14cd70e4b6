package io.tomcatredis.session;

import io.tomcatredis.connection.InvalidSettingException;
import io.tomcatredis.connection.RedisConnectionSettings;
import io.tomcatredis.connection.Settings;
import io.tomcatredis.connection.TlsSettings;
import io.tomcatredis.session.codec.AttributeCodec;
import io.tomcatredis.session.codec.ClassFilter;
import io.tomcatredis.session.codec.EncryptionKeys;
import io.tomcatredis.session.store.SessionHashFormat;
import io.tomcatredis.session.store.SessionKeys;
import io.tomcatredis.session.store.WaitAof;
import java.util.Set;
import java.util.function.Function;

/**
 * The manager's configuration, parsed and validated once at start from the {@code <Manager>}
 * attributes. The connection attributes ({@code redisUri}, {@code timeoutMillis}, ...) are those of
 * {@link RedisConnectionSettings}, shared with the cache filter.
 */
record SessionManagerSettings(RedisConnectionSettings connection, String keyPrefix, String serializer,
        ClassFilter serialFilter, int waitReplicas, WaitAof waitAof, int waitTimeoutMillis, int touchIntervalMillis, int nearCacheSize,
        int nearCacheStalenessMillis, int compressionThreshold, EncryptionKeys encryptionKeys,
        boolean acceptUnencryptedValues, boolean encryptValues, int maxAttributeBytes, int maxSessionBytes, boolean failOnSizeLimit) {

    static final String KEY_PREFIX = "keyPrefix";
    static final String SERIALIZER = "serializer";
    static final String SERIAL_FILTER = "serialFilter";
    static final String WAIT_REPLICAS = "waitReplicas";
    static final String WAIT_AOF_LOCAL = "waitAofLocal";
    static final String WAIT_AOF_REPLICAS = "waitAofReplicas";
    static final String WAIT_TIMEOUT_MILLIS = "waitTimeoutMillis";
    static final String TOUCH_INTERVAL = "touchInterval";
    /** Default {@code touchInterval}, ms: a few seconds, as Tomcat's own expiry runs once a minute. */
    static final int DEFAULT_TOUCH_INTERVAL_MILLIS = 5_000;
    static final String NEAR_CACHE_SIZE = "nearCacheSize";
    /** Default {@code nearCacheSize}, sessions: the working set of a node serving a few hundred users at a time. */
    static final int DEFAULT_NEAR_CACHE_SIZE = 1_000;
    /** Largest {@code nearCacheSize}: kept sessions cost heap, and a larger set rarely gets a second request in time. */
    static final int MAX_NEAR_CACHE_SIZE = 1_000_000;
    static final String COMPRESSION_THRESHOLD = "compressionThreshold";
    /**
     * Default {@code compressionThreshold}, bytes: an LZ4 compression costs about 2.5 µs however
     * short the value, and below this the typical session's values save little (benchmarks/RESULTS.md).
     */
    static final int DEFAULT_COMPRESSION_THRESHOLD = 512;

    static final String ENCRYPTION_KEY_FILE = "encryptionKeyFile";
    static final String ENCRYPTION_KEY_ENV = "encryptionKeyEnv";
    /** Not a setting: declared so that a key written into context.xml is refused instead of ignored. */
    static final String ENCRYPTION_KEY = "encryptionKey";
    static final String ACCEPT_UNENCRYPTED_VALUES = "acceptUnencryptedValues";
    static final String ENCRYPT_VALUES = "encryptValues";
    static final String MAX_ATTRIBUTE_BYTES = "maxAttributeBytes";
    static final String MAX_SESSION_BYTES = "maxSessionBytes";
    static final String SIZE_LIMIT_ACTION = "sizeLimitAction";

    static final String NEAR_CACHE_STALENESS_MILLIS = "nearCacheStalenessMillis";
    /** Largest {@code nearCacheStalenessMillis}: beyond a minute, a stale answer is a defect, not a bound. */
    static final int MAX_NEAR_CACHE_STALENESS_MILLIS = 60_000;

    /** Attributes of the manager that a {@link RedisStore} has no use for (it keeps no near cache). */
    static final Set<String> MANAGER_ONLY = Set.of(NEAR_CACHE_SIZE, NEAR_CACHE_STALENESS_MILLIS);

    /** Every attribute name this configuration understands, connection attributes included. */
    static final Set<String> NAMES = Set.of(KEY_PREFIX, SERIALIZER, SERIAL_FILTER, WAIT_REPLICAS, WAIT_AOF_LOCAL, WAIT_AOF_REPLICAS, WAIT_TIMEOUT_MILLIS, TOUCH_INTERVAL,
            NEAR_CACHE_SIZE, NEAR_CACHE_STALENESS_MILLIS, COMPRESSION_THRESHOLD, ENCRYPTION_KEY_FILE, ENCRYPTION_KEY_ENV,
            ENCRYPTION_KEY, ACCEPT_UNENCRYPTED_VALUES, ENCRYPT_VALUES, MAX_ATTRIBUTE_BYTES, MAX_SESSION_BYTES, SIZE_LIMIT_ACTION,
            RedisConnectionSettings.REDIS_URI, RedisConnectionSettings.TIMEOUT_MILLIS,
            RedisConnectionSettings.MAX_CONNECTIONS, RedisConnectionSettings.SENTINEL_MASTER,
            RedisConnectionSettings.SENTINELS, RedisConnectionSettings.SENTINEL_PASSWORD,
            RedisConnectionSettings.CLUSTER_NODES, TlsSettings.TRUSTSTORE, TlsSettings.TRUSTSTORE_PASSWORD,
            TlsSettings.TRUSTSTORE_TYPE, TlsSettings.KEYSTORE, TlsSettings.KEYSTORE_PASSWORD, TlsSettings.KEYSTORE_TYPE,
            TlsSettings.TLS_VERIFY);

    static SessionManagerSettings parse(Function<String, String> attributes, String defaultKeyPrefix) {
        return parse(attributes, defaultKeyPrefix, System::getenv);
    }

    /** @param environment where {@code encryptionKeyEnv} is looked up: {@link System#getenv(String)} */
    static SessionManagerSettings parse(Function<String, String> attributes, String defaultKeyPrefix,
            Function<String, String> environment) {
        RedisConnectionSettings connection = RedisConnectionSettings.parse(attributes);
        Settings settings = new Settings(attributes);
        String keyPrefix = settings.string(KEY_PREFIX, defaultKeyPrefix);
        try {
            new SessionKeys(keyPrefix);
        } catch (IllegalArgumentException e) {
            throw new InvalidSettingException(KEY_PREFIX, "\"" + keyPrefix + "\": " + e.getMessage());
        }
        String serializer = settings.oneOf(SERIALIZER, "kryo", "kryo", "java");
        String filterPattern = settings.string(SERIAL_FILTER, null);
        ClassFilter filter;
        try {
            filter = ClassFilter.parse(filterPattern);
        } catch (IllegalArgumentException e) {
            throw new InvalidSettingException(SERIAL_FILTER, "\"" + filterPattern + "\" is not a valid "
                    + "jdk.serialFilter pattern: " + e.getMessage());
        }
        int waitReplicas = settings.integer(WAIT_REPLICAS, 0, 0, 100);
        int waitTimeoutMillis = settings.integer(WAIT_TIMEOUT_MILLIS, Math.min(1000, connection.timeoutMillis() / 2), 1,
                600_000);
        WaitAof waitAof = new WaitAof(settings.bool(WAIT_AOF_LOCAL, false), settings.integer(WAIT_AOF_REPLICAS, 0, 0, 100));
        if (waitReplicas > 0 && waitAof.enabled() && 2L * waitTimeoutMillis >= connection.timeoutMillis()) {
            throw new InvalidSettingException(WAIT_TIMEOUT_MILLIS, waitTimeoutMillis + " twice must be below timeoutMillis ("
                    + connection.timeoutMillis() + "): WAIT and WAITAOF each wait up to waitTimeoutMillis after a save,"
                    + " in one round trip");
        }
        if ((waitReplicas > 0 || waitAof.enabled()) && waitTimeoutMillis >= connection.timeoutMillis()) {
            throw new InvalidSettingException(WAIT_TIMEOUT_MILLIS, waitTimeoutMillis + " must be below timeoutMillis ("
                    + connection.timeoutMillis() + "), or the connection times out before " + (waitReplicas > 0 ? "WAIT"
                    : "WAITAOF") + " answers");
        }
        int touchIntervalMillis = settings.integer(TOUCH_INTERVAL, DEFAULT_TOUCH_INTERVAL_MILLIS, 0,
                (int) SessionHashFormat.MAX_TOUCH_INTERVAL_MILLIS);
        int nearCacheSize = settings.integer(NEAR_CACHE_SIZE, DEFAULT_NEAR_CACHE_SIZE, 0, MAX_NEAR_CACHE_SIZE);
        int nearCacheStalenessMillis = settings.integer(NEAR_CACHE_STALENESS_MILLIS, 0, 0,
                MAX_NEAR_CACHE_STALENESS_MILLIS);
        if (nearCacheStalenessMillis > 0 && nearCacheSize == 0) {
            throw new InvalidSettingException(NEAR_CACHE_STALENESS_MILLIS, nearCacheStalenessMillis
                    + " needs a near cache: nearCacheSize is 0");
        }
        if (nearCacheStalenessMillis > 0 && connection.topology() == RedisConnectionSettings.Topology.CLUSTER) {
            throw new InvalidSettingException(NEAR_CACHE_STALENESS_MILLIS, nearCacheStalenessMillis
                    + " is not supported on Redis Cluster (clusterNodes): each master tracks only its own keys; use 0");
        }
        // 0 or any negative value: off; above the longest value compressed, nothing would be
        int compressionThreshold = settings.integer(COMPRESSION_THRESHOLD, DEFAULT_COMPRESSION_THRESHOLD,
                Integer.MIN_VALUE, AttributeCodec.MAX_COMPRESSION_THRESHOLD);
        EncryptionKeys keys = encryptionKeys(settings, environment);
        boolean encryptValues = settings.bool(ENCRYPT_VALUES, true);
        // decrypt-only writes unencrypted values: it must read them too
        boolean acceptUnencrypted = settings.bool(ACCEPT_UNENCRYPTED_VALUES, !encryptValues);
        if (!encryptValues && keys == null) {
            throw new InvalidSettingException(ENCRYPT_VALUES, "false (decrypt-only) needs keys: set encryptionKeyFile or"
                    + " encryptionKeyEnv");
        }
        if (acceptUnencrypted && keys == null) {
            throw new InvalidSettingException(ACCEPT_UNENCRYPTED_VALUES, "true needs encryption: set encryptionKeyFile or"
                    + " encryptionKeyEnv");
        }
        if (!encryptValues && !acceptUnencrypted) {
            throw new InvalidSettingException(ACCEPT_UNENCRYPTED_VALUES, "false contradicts encryptValues=\"false\", which"
                    + " writes unencrypted values");
        }
        int maxAttributeBytes = settings.integer(MAX_ATTRIBUTE_BYTES, 0, 0, Integer.MAX_VALUE);
        int maxSessionBytes = settings.integer(MAX_SESSION_BYTES, 0, 0, Integer.MAX_VALUE);
        if (maxAttributeBytes > 0 && maxSessionBytes > 0 && maxAttributeBytes > maxSessionBytes) {
            throw new InvalidSettingException(MAX_ATTRIBUTE_BYTES, maxAttributeBytes + " is above maxSessionBytes ("
                    + maxSessionBytes + "): no attribute could reach it");
        }
        boolean failOnSizeLimit = "fail".equals(settings.oneOf(SIZE_LIMIT_ACTION, "warn", "warn", "fail"));
        return new SessionManagerSettings(connection, keyPrefix, serializer, filter, waitReplicas, waitAof, waitTimeoutMillis,
                touchIntervalMillis, nearCacheSize, nearCacheStalenessMillis, compressionThreshold, keys, acceptUnencrypted,
                encryptValues, maxAttributeBytes, maxSessionBytes, failOnSizeLimit);
    }

    /**
     * The keys of {@code encryptionKeyFile} or {@code encryptionKeyEnv}, or null when neither is
     * set. Never a key from context.xml itself: {@code encryptionKey}, or a file or variable name
     * that looks like a key, is refused without echoing it.
     */
    private static EncryptionKeys encryptionKeys(Settings settings, Function<String, String> environment) {
        if (settings.string(ENCRYPTION_KEY, null) != null) {
            throw new InvalidSettingException(ENCRYPTION_KEY, "keys are never read from context.xml, where they would sit"
                    + " in clear; name a file with encryptionKeyFile or an environment variable with encryptionKeyEnv");
        }
        String file = settings.string(ENCRYPTION_KEY_FILE, null);
        String variable = settings.string(ENCRYPTION_KEY_ENV, null);
        for (String name : new String[] {ENCRYPTION_KEY_FILE, ENCRYPTION_KEY_ENV}) {
            String value = name.equals(ENCRYPTION_KEY_FILE) ? file : variable;
            if (value != null && EncryptionKeys.looksLikeKey(value)) {
                throw new InvalidSettingException(name, "the value looks like a key, not a "
                        + (name.equals(ENCRYPTION_KEY_FILE) ? "file name" : "variable name")
                        + ": keys are never read from context.xml, where they would sit in clear");
            }
        }
        if (file != null && variable != null) {
            throw new InvalidSettingException(ENCRYPTION_KEY_ENV, "set either encryptionKeyFile or encryptionKeyEnv, not"
                    + " both");
        }
        try {
            if (file != null) {
                return EncryptionKeys.fromFile(file);
            }
            return variable == null ? null : EncryptionKeys.fromEnvironment(variable, environment);
        } catch (IllegalArgumentException e) {
            throw new InvalidSettingException(file != null ? ENCRYPTION_KEY_FILE : ENCRYPTION_KEY_ENV, e.getMessage());
        }
    }
}
