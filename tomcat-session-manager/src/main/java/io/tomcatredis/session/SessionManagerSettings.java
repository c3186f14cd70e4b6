package io.tomcatredis.session;

import io.tomcatredis.connection.InvalidSettingException;
import io.tomcatredis.connection.RedisConnectionSettings;
import io.tomcatredis.connection.Settings;
import io.tomcatredis.session.codec.ClassFilter;
import io.tomcatredis.session.store.SessionKeys;
import java.util.function.Function;

/**
 * The manager's configuration, parsed and validated once at start from the {@code <Manager>}
 * attributes. The connection attributes ({@code redisUri}, {@code timeoutMillis}, ...) are those of
 * {@link RedisConnectionSettings}, shared with the cache filter.
 */
record SessionManagerSettings(RedisConnectionSettings connection, String keyPrefix, String serializer,
        ClassFilter serialFilter) {

    static final String KEY_PREFIX = "keyPrefix";
    static final String SERIALIZER = "serializer";
    static final String SERIAL_FILTER = "serialFilter";

    static SessionManagerSettings parse(Function<String, String> attributes, String defaultKeyPrefix) {
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
        return new SessionManagerSettings(connection, keyPrefix, serializer, filter);
    }
}
