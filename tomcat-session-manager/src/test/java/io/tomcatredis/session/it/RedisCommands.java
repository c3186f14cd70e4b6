package io.tomcatredis.session.it;

import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.RedisNode;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import redis.clients.jedis.Jedis;

/** Counts the commands the masters executed, summed from their {@code INFO commandstats}. */
final class RedisCommands {

    private final Supplier<List<RedisNode>> masters;

    RedisCommands(Supplier<List<RedisNode>> masters) {
        this.masters = masters;
    }

    void reset() {
        for (RedisNode node : masters.get()) {
            try (Jedis jedis = node.client()) {
                jedis.configResetStat();
            }
        }
    }

    /** Calls per command name (lower case), excluding the INFO and CONFIG calls of this class. */
    Map<String, Long> calls() {
        Map<String, Long> calls = new HashMap<>();
        for (RedisNode node : masters.get()) {
            try (Jedis jedis = node.client()) {
                for (String line : jedis.info("commandstats").split("\r?\n")) {
                    if (!line.startsWith("cmdstat_")) {
                        continue;
                    }
                    String command = line.substring("cmdstat_".length(), line.indexOf(':'));
                    long count = Long.parseLong(line.replaceAll("^[^:]*:calls=(\\d+),.*", "$1"));
                    // A script Redis does not know yet (after a restart or failover) answers NOSCRIPT
                    // and is sent again with EVAL: the failed EVALSHA did no work.
                    if (line.contains("failed_calls=")) {
                        count -= Long.parseLong(line.replaceAll("^.*failed_calls=(\\d+).*$", "$1"));
                    }
                    if (!command.equals("info") && !command.startsWith("config")) {
                        calls.merge(command, count, Long::sum);
                    }
                }
            }
        }
        return calls;
    }

    /**
     * Round trips of the session store: HGETALL (a load without a copy), its scripts (EVALSHA, or
     * EVAL after NOSCRIPT: version checks, saves, claims, id changes) and DEL. Commands run inside a
     * script (HSET, PEXPIRE, ...) are counted by Redis too but cost no round trip; they are left
     * out, except HGETALL, which the load script runs when the caller's copy is stale and the
     * expiry claim runs for the listeners: those paths count one more. (A save of a new session runs
     * DEL inside its script as well.)
     */
    long sessionCommands() {
        Map<String, Long> calls = calls();
        return calls.getOrDefault("hgetall", 0L) + calls.getOrDefault("evalsha", 0L) + calls.getOrDefault("eval", 0L)
                + calls.getOrDefault("del", 0L);
    }

    /**
     * Sends {@code request} again until one runs neither a load nor a save ({@code HGETALL},
     * {@code EVALSHA}): a request answered from the near cache alone. Returns that answer.
     */
    String untilAnsweredWithoutRedis(Supplier<String> request) {
        String[] answer = new String[1];
        Await.until(Duration.ofSeconds(30), "a request answered without Redis", () -> {
            reset();
            answer[0] = request.get();
            Map<String, Long> calls = calls();
            return calls.getOrDefault("hgetall", 0L) + calls.getOrDefault("evalsha", 0L) == 0;
        });
        return answer[0];
    }
}
