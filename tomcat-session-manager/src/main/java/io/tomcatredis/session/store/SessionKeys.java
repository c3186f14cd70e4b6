package io.tomcatredis.session.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Names of the Redis keys of a webapp's sessions. This layout is public API; tools may read it.
 *
 * <h2>Keys</h2>
 * <pre>
 *   &lt;keyPrefix&gt;{&lt;id&gt;}                hash        one session, fields as in {@link SessionHashFormat}
 *   &lt;keyPrefix&gt;{&lt;id&gt;}:data:&lt;name&gt;    any type    a session-scoped structure of the application
 *   &lt;keyPrefix&gt;{&lt;id&gt;}:claimed         hash        for at most 60 s: a session being invalidated or
 *                                             expired, until its one claimant has run the listeners
 *   &lt;keyPrefix&gt;expirations           sorted set  expiry index: member = &lt;id&gt;, score = deadline (or, for a
 *                                             session that never expires, the end of its key's TTL)
 *   &lt;keyPrefix&gt;expirations:{&lt;tag&gt;}   sorted set  with Redis Cluster: one index per slot (see
 *                                             {@link Topology})
 *   &lt;keyPrefix&gt;principal:{&lt;user&gt;}   sorted set  principal index: the sessions whose {@code meta:principalName}
 *                                             is one user name; member = &lt;id&gt;, score = when the member
 *                                             was last written, epoch ms by Redis' clock (see
 *                                             {@link PrincipalIndex}, {@link #principalTag})
 * </pre>
 * {@code <id>} is the session id without its {@code .jvmRoute} suffix, so every node finds the
 * session whatever route the id carries, and one session is one key and one index member. It sits
 * inside a Redis Cluster hash tag, so every key of one session lands in one slot. The default
 * {@code keyPrefix} is {@code tomcat-session:<host><contextPath>:}, so two webapps never read each
 * other's sessions.
 *
 * <p>Every key has a TTL: a session's keys live {@code maxInactiveInterval} plus
 * {@link #TTL_GRACE_SECONDS}, renewed by every save ({@link #NEVER_EXPIRES_TTL_SECONDS} when the
 * session never expires); the hash of a session still due when an expiry sweep ends behind lives
 * longer ({@link RedisSessionStore#keepDueAlive}); the index lives as long as its longest-lived
 * session, and so does each principal index ({@link PrincipalIndex#ttlMillis}, extended by every
 * save of a signed-in session). Keys are written
 * only by saves of sessions that exist: a request with an unknown or expired id never creates one.
 */
public final class SessionKeys {

    static final String DATA_INFIX = ":data:";
    static final String CLAIMED_SUFFIX = ":claimed";
    static final String EXPIRY_INDEX = "expirations";
    static final String PRINCIPAL_INDEX = "principal:";
    /** Longest user name (UTF-8 bytes) kept readable in its index key; longer ones are hashed. */
    static final int MAX_READABLE_NAME_BYTES = 96;

    /** Redis keeps a session this long past its deadline, so that expiry can still read it. */
    public static final long TTL_GRACE_SECONDS = 300;
    /** TTL of a session whose maxInactiveInterval is 0 or negative, renewed by every save. */
    public static final long NEVER_EXPIRES_TTL_SECONDS = 30L * 24 * 3600;

    private final String prefix;

    /**
     * @param prefix the {@code keyPrefix}
     * @throws IllegalArgumentException when it is empty or contains a brace, which would break the hash tag
     */
    public SessionKeys(String prefix) {
        if (prefix == null || prefix.isEmpty()) {
            throw new IllegalArgumentException("keyPrefix must not be empty");
        }
        if (prefix.indexOf('{') >= 0 || prefix.indexOf('}') >= 0) {
            throw new IllegalArgumentException("keyPrefix must not contain '{' or '}' (they delimit the hash tag)");
        }
        this.prefix = prefix;
    }

    /** The default {@code keyPrefix} for a webapp: {@code tomcat-session:<host><contextPath>:}. */
    public static String defaultPrefix(String hostName, String contextPath) {
        String path = contextPath == null || contextPath.isEmpty() ? "/" : contextPath;
        return "tomcat-session:" + hostName + path + ":";
    }

    public String prefix() {
        return prefix;
    }

    /** The key of the session hash for {@code sessionId}, with or without a jvmRoute suffix. */
    public String sessionKey(String sessionId) {
        return prefix + "{" + baseId(sessionId) + "}";
    }

    byte[] sessionKeyBytes(String sessionId) {
        return utf8(sessionKey(sessionId));
    }

    byte[] claimKeyBytes(String sessionId) {
        return utf8(sessionKey(sessionId) + CLAIMED_SUFFIX);
    }

    /**
     * The session id (without route) a key of this layout belongs to: the session hash, its claim,
     * a session-scoped structure; null for the expiry index and keys of other layouts.
     */
    public String sessionIdOfKey(String key) {
        int open = prefix.length();
        if (!key.startsWith(prefix) || key.length() <= open || key.charAt(open) != '{') {
            return null;
        }
        int close = key.indexOf('}', open + 1);
        return close < 0 ? null : key.substring(open + 1, close);
    }

    /** The session id without its {@code .jvmRoute} suffix: the id as Redis knows it. */
    public static String baseId(String sessionId) {
        int dot = sessionId.indexOf('.');
        return dot < 0 ? sessionId : sessionId.substring(0, dot);
    }

    /** The key of session-scoped structure {@code name} of {@code sessionId}. */
    public String dataKey(String sessionId, String name) {
        return sessionKey(sessionId) + DATA_INFIX + name;
    }

    /** Prefix of the expiry index key(s); see {@link Topology}. */
    String expiryIndexPrefix() {
        return prefix + EXPIRY_INDEX;
    }

    /**
     * The key of the principal index of user {@code userName}: {@code
     * <keyPrefix>principal:{<principalTag(userName)>}}, a hash tag of its own, so on Redis Cluster the
     * index of one user is one key in one slot, apart from its sessions' slots.
     */
    public String principalIndexKey(String userName) {
        return prefix + PRINCIPAL_INDEX + "{" + principalTag(userName) + "}";
    }

    /**
     * The one mapping from a user name to the text of its index key. A user name is untrusted text
     * (braces would move the Cluster hash tag, and it may hold colons, spaces, any Unicode, or be
     * kilobytes long), so it never appears as is: a name of at most {@value #MAX_READABLE_NAME_BYTES}
     * UTF-8 bytes is {@code u:} followed by the unpadded base64url (RFC 4648, section 5) of its UTF-8
     * bytes, readable with any base64 tool; a longer one is {@code h:} followed by the lower-case hex
     * SHA-256 of its UTF-8 bytes (64 characters). The two forms cannot collide: the prefixes differ,
     * and neither alphabet has a brace. A keyed variant (an HMAC, so that the key names no user)
     * would change this method only.
     */
    static String principalTag(String userName) {
        byte[] name = utf8(userName);
        if (name.length <= MAX_READABLE_NAME_BYTES) {
            return "u:" + Base64.getUrlEncoder().withoutPadding().encodeToString(name);
        }
        try {
            return "h:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(name));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("Every Java platform has SHA-256", e);
        }
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
