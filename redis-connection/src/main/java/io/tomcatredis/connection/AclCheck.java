package io.tomcatredis.connection;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.logging.Logger;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * Checks at startup that the Redis user of a component (session manager, cache filter) may run
 * every command it will send, on keys (and channels) under its {@code keyPrefix}, so that a user
 * narrower than {@code conf/users.acl} is reported once, at startup, by name, rather than as a
 * {@code NOPERM} on some request much later.
 *
 * <p>One Lua script, run as {@code EVALSHA} (or {@code EVAL} after {@code NOSCRIPT}) with a probe
 * key under the {@code keyPrefix} as {@code KEYS[1]} (so that it routes on Redis Cluster), asks
 * {@code redis.acl_check_cmd(command, args...)} (Redis 7.0 and later, Valkey) for every
 * {@linkplain Probe probe} and returns the ones the user is denied. The script runs nothing else.
 * A {@code NOPERM} on the {@code EVALSHA}/{@code EVAL} itself is reported as such: the user lacks
 * the scripting commands or the key pattern of the probe key. A server without
 * {@code redis.acl_check_cmd} (Redis 6.2) is not checked (INFO).
 */
public final class AclCheck {

    private static final Logger LOG = Logger.getLogger(AclCheck.class.getName());
    /** Separates a probe's words in the script's ARGV: no command name or key of ours holds it. */
    private static final char SEPARATOR = '\n';

    /**
     * ARGV: one probe each, words separated by a newline. Returns {"checked", index of each denied
     * probe (1-based)..., "?" index " " error...} or {"unsupported"}. An error of acl_check_cmd (a command the server
     * does not know, or a probe with a wrong number of arguments) is returned, not raised.
     */
    static final LuaScript SCRIPT = new LuaScript("""
            if redis.acl_check_cmd == nil then
              return {'unsupported'}
            end
            local result = {'checked'}
            for i = 1, #ARGV do
              local words = {}
              for word in string.gmatch(ARGV[i], '[^\\n]+') do
                words[#words + 1] = word
              end
              local ok, allowed = pcall(redis.acl_check_cmd, unpack(words))
              if not ok then
                result[#result + 1] = '?' .. i .. ' ' .. tostring(allowed)
              elseif not allowed then
                result[#result + 1] = tostring(i)
              end
            end
            return result
            """);

    /**
     * One command as the component sends it, e.g. {@code hset <key> f v}: name, subcommand,
     * arguments.
     *
     * @param feature null for a command the component cannot work without; else the optional
     *        feature that needs it (e.g. {@code localTierBytes}), which a denial only switches off
     */
    public record Probe(List<String> words, String feature) {

        public Probe {
            words = List.copyOf(words);
            if (words.isEmpty()) {
                throw new IllegalArgumentException("a probe needs a command");
            }
            for (String word : words) {
                if (word.isEmpty() || word.indexOf(SEPARATOR) >= 0) {
                    throw new IllegalArgumentException("probe word must be non-empty without a newline: " + words);
                }
            }
        }

        public static Probe of(String... words) {
            return new Probe(List.of(words), null);
        }

        /** This command, needed by {@code feature} only. */
        public Probe forFeature(String feature) {
            return new Probe(words, feature);
        }

        /** The command in capitals with its arguments, e.g. {@code HSET tomcat-session:x f v}; subcommands too ({@code MEMORY USAGE k}). */
        String display() {
            StringBuilder text = new StringBuilder(words.get(0).toUpperCase(Locale.ROOT));
            for (int i = 1; i < words.size(); i++) {
                text.append(' ').append(i == 1 && isSubcommand(words.get(0)) ? words.get(i).toUpperCase(Locale.ROOT)
                        : words.get(i));
            }
            return text.toString();
        }

        private static boolean isSubcommand(String command) {
            return switch (command.toLowerCase(Locale.ROOT)) {
                case "client", "memory", "script", "cluster", "config", "object", "acl" -> true;
                default -> false;
            };
        }

        String argv() {
            return String.join(String.valueOf(SEPARATOR), words);
        }
    }

    /**
     * What the check found.
     *
     * @param denied the probes the user may not run, in probe order
     * @param refusal Redis's error when it refused the check's script itself ({@code NOPERM ...}), or null
     * @param errors probes the server could not judge (an unknown command: an older server), with its error
     * @param checked false when the server has no {@code redis.acl_check_cmd}: nothing was checked
     */
    public record Result(List<Probe> denied, String refusal, List<String> errors, boolean checked) {

        public Result {
            denied = List.copyOf(denied);
            errors = List.copyOf(errors);
        }

        /** Whether the user may run everything the component cannot work without. */
        public boolean passed() {
            return refusal == null && denied.stream().allMatch(probe -> probe.feature() != null);
        }
    }

    private final String component;
    private final String user;
    private final String keyPrefix;
    private final String probeKey;
    private final List<Probe> probes;

    /**
     * @param component who needs the permissions, for messages, e.g. {@code RedisSessionManager of /shop}
     * @param user the Redis user of the component's connection ({@code default} when it names none)
     * @param keyPrefix the component's {@code keyPrefix}, for messages
     * @param probeKey {@code KEYS[1]} of the check's script: a key under {@code keyPrefix} (never written)
     * @param probes every command the component sends, with keys and channels under its {@code keyPrefix}
     */
    public AclCheck(String component, String user, String keyPrefix, String probeKey, List<Probe> probes) {
        this.component = component;
        this.user = user == null ? "default" : user;
        this.keyPrefix = keyPrefix;
        this.probeKey = probeKey;
        this.probes = List.copyOf(probes);
    }

    /**
     * Runs the check on {@code redis} now.
     *
     * @throws JedisConnectionException when Redis cannot be reached, or answers that it is not ready
     *     ({@code LOADING}, {@code BUSY}, {@code MASTERDOWN}, {@code TRYAGAIN}, {@code CLUSTERDOWN}): try
     *     again later ({@link #whenReachable})
     * @throws JedisDataException when Redis answers another error than {@code NOPERM}
     */
    public Result run(RedisClientHolder redis) {
        try {
            return redis.call(this::run);
        } catch (JedisDataException e) {
            throw notReadyAsUnreachable(e);
        }
    }

    /**
     * A Redis that is loading its data, running a long script, without a master or in mid-resharding
     * answers the check with an error that says nothing about the user's permissions: the check is
     * tried again, as for a Redis that cannot be reached, instead of never being made.
     */
    private static RuntimeException notReadyAsUnreachable(JedisDataException e) {
        String reply = String.valueOf(e.getMessage());
        for (String state : List.of("LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN")) {
            if (reply.startsWith(state + " ") || reply.equals(state)) {
                return new JedisConnectionException("Redis is not ready for the permission check (" + reply + ")", e);
            }
        }
        return e;
    }

    /** {@link #run(RedisClientHolder)} on a client. */
    public Result run(UnifiedJedis jedis) {
        List<byte[]> argv = new ArrayList<>(probes.size());
        for (Probe probe : probes) {
            argv.add(probe.argv().getBytes(StandardCharsets.UTF_8));
        }
        Object reply;
        try {
            reply = SCRIPT.run(jedis, List.of(probeKey.getBytes(StandardCharsets.UTF_8)), argv);
        } catch (JedisDataException e) {
            if (String.valueOf(e.getMessage()).startsWith("NOPERM")) {
                return new Result(List.of(), e.getMessage(), List.of(), true);
            }
            throw e;
        }
        List<String> lines = new ArrayList<>();
        if (reply instanceof List<?> items) {
            for (Object item : items) {
                lines.add(item instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : String.valueOf(item));
            }
        }
        if (lines.isEmpty() || !"checked".equals(lines.get(0))) {
            return new Result(List.of(), null, List.of(), false);
        }
        List<Probe> denied = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            if (line.startsWith("?")) {
                int space = line.indexOf(' ');
                errors.add(probes.get(Integer.parseInt(line.substring(1, space)) - 1).display() + " ("
                        + line.substring(space + 1) + ")");
            } else {
                denied.add(probes.get(Integer.parseInt(line) - 1));
            }
        }
        return new Result(denied, null, errors, true);
    }

    /**
     * The check's verdict as one line for the log or a startup failure, or null when the user may
     * run everything the component cannot work without. E.g. {@code RedisSessionManager of /shop:
     * the Redis user "tomcat-session" is denied commands it needs under keyPrefix
     * "tomcat-session:localhost/shop:": HSET tomcat-session:localhost/shop:{acl-check} f v; allow
     * them in that user's ACL rule (see conf/users.acl)}.
     */
    public String problem(Result result) {
        if (result.refusal() != null) {
            return component + ": the Redis user \"" + user + "\" may not run the permission check (EVALSHA or EVAL"
                    + " with key " + probeKey + "), which it needs for every operation under keyPrefix \"" + keyPrefix
                    + "\": " + result.refusal() + "; allow them in that user's ACL rule (see conf/users.acl)";
        }
        List<String> required = result.denied().stream().filter(probe -> probe.feature() == null)
                .map(Probe::display).toList();
        if (required.isEmpty()) {
            return null;
        }
        return component + ": the Redis user \"" + user + "\" is denied commands it needs under keyPrefix \""
                + keyPrefix + "\": " + String.join(", ", required)
                + "; allow them in that user's ACL rule (see conf/users.acl)";
    }

    /**
     * What the optional features that are on lack, as one line per feature, e.g. {@code
     * RedisCacheFilter page-cache of /shop: the Redis user "tomcat-cache" is denied what
     * localTierBytes needs: SUBSCRIBE tomcat-cache:/shop:{cache}invalidations; localTierBytes stays
     * off until it is allowed (see conf/users.acl)}; empty when nothing is missing.
     */
    public List<String> featureWarnings(Result result) {
        Map<String, List<String>> byFeature = new LinkedHashMap<>();
        for (Probe probe : result.denied()) {
            if (probe.feature() != null) {
                byFeature.computeIfAbsent(probe.feature(), feature -> new ArrayList<>()).add(probe.display());
            }
        }
        List<String> warnings = new ArrayList<>();
        byFeature.forEach((feature, denied) -> warnings.add(component + ": the Redis user \"" + user
                + "\" is denied what " + feature + " needs: " + String.join(", ", denied) + "; " + feature
                + " stays off until it is allowed (see conf/users.acl)"));
        return warnings;
    }

    /**
     * Logs the {@link #featureWarnings} (WARNING), what the check could not judge (an older server),
     * or that it could not run at all (INFO).
     */
    public void logLimits(Result result) {
        featureWarnings(result).forEach(LOG::warning);
        if (!result.checked()) {
            LOG.info(component + ": the Redis permissions of user \"" + user + "\" are not checked at startup: the"
                    + " server has no redis.acl_check_cmd (Redis 7.0 or later, Valkey)");
        } else if (!result.errors().isEmpty()) {
            LOG.fine(component + ": the server could not judge these commands (not known to it): "
                    + String.join(", ", result.errors()));
        }
    }

    /**
     * Runs the check on the first call of {@code redis} that reaches Redis (a reply, even an
     * error), once, and hands the result to {@code verdict}: for a component that started while
     * Redis could not be reached.
     */
    public void whenReachable(RedisClientHolder redis, Consumer<Result> verdict) {
        redis.whenReachable(jedis -> {
            Result result;
            try {
                result = run(jedis);
            } catch (JedisDataException e) {
                throw notReadyAsUnreachable(e);
            }
            verdict.accept(result);
        });
    }
}
