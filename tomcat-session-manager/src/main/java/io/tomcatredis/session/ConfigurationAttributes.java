package io.tomcatredis.session;

import io.tomcatredis.connection.RedisConnectionSettings;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The raw attribute values that {@code context.xml} gives {@link RedisSessionManager} and
 * {@link RedisStore}, kept as text until start, when {@link SessionManagerSettings} parses them.
 */
final class ConfigurationAttributes {

    private final Map<String, String> values = new ConcurrentHashMap<>();

    void set(String name, String value) {
        if (value == null) {
            values.remove(name);
        } else {
            values.put(name, value);
        }
    }

    /**
     * Sets a known attribute; Tomcat's digester calls this (through {@code setProperty}) for every
     * attribute without its own setter.
     *
     * @return false for an unknown name, so that Tomcat warns about the typo
     */
    boolean setIfKnown(String name, String value) {
        if (!SessionManagerSettings.NAMES.contains(name)) {
            return false;
        }
        set(name, value);
        return true;
    }

    String get(String name) {
        return values.get(name);
    }

    /** {@code redisUri} with its password replaced by {@code ***}, for getters that JMX exposes. */
    String redactedRedisUri() {
        return RedisConnectionSettings.redact(values.get(RedisConnectionSettings.REDIS_URI));
    }

    SessionManagerSettings parse(String defaultKeyPrefix) {
        return SessionManagerSettings.parse(values::get, defaultKeyPrefix);
    }
}
