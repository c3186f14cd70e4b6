package io.tomcatredis.connection;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/** A Lua script sent by its SHA-1 (EVALSHA), and in full only when Redis does not know it yet. */
public final class LuaScript {

    private final byte[] text;
    private final byte[] sha1;

    public LuaScript(String text) {
        this.text = text.getBytes(StandardCharsets.UTF_8);
        try {
            this.sha1 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(this.text))
                    .getBytes(StandardCharsets.US_ASCII);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required by every Java runtime", e);
        }
    }

    /** Queues the script in a pipeline: by SHA-1, or in full after Redis answered NOSCRIPT. */
    public Response<Object> queue(AbstractPipeline pipeline, List<byte[]> keys, List<byte[]> args, boolean full) {
        return full ? pipeline.eval(text, keys, args) : pipeline.evalsha(sha1, keys, args);
    }

    public Object run(UnifiedJedis jedis, List<byte[]> keys, List<byte[]> args) {
        try {
            return jedis.evalsha(sha1, keys, args);
        } catch (JedisNoScriptException e) {
            // First use on this Redis (or after a restart or failover): EVAL also caches the script.
            return jedis.eval(text, keys, args);
        }
    }
}
