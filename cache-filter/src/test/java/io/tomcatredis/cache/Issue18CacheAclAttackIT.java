package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.connection.AclCheck;
import io.tomcatredis.connection.RedisClientHolder;
import io.tomcatredis.connection.RedisConnectionSettings;
import io.tomcatredis.connection.RedisConnector;
import io.tomcatredis.testsupport.ProjectConf;
import io.tomcatredis.testsupport.RedisOptions;
import io.tomcatredis.testsupport.StandaloneRedis;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/**
 * Issue 18.1 attack: the cache filter's startup check against the shipped tomcat-cache user of
 * conf/users.acl, narrowed by one command at a time.
 */
class Issue18CacheAclAttackIT {

    private static final String PASSWORD = "attack-cache";

    /**
     * Held: every command rule of the shipped tomcat-cache line, taken away one at a time, makes
     * the startup check fail (or warn, for the local tier's), naming that command; but the rules
     * that only a connection uses (it would not connect without them) and CLUSTER SLOTS.
     */
    @Test
    void theStartupCheckNamesEachCommandOfTheCacheUserTakenAway() throws IOException {
        String line = Files.readAllLines(ProjectConf.file("users.acl")).stream()
                .filter(l -> l.startsWith("user tomcat-cache ")).findFirst().orElseThrow();
        Set<String> connectionOnly = Set.of("+hello", "+auth", "+ping", "+select", "+client|setname", "+cluster|slots");
        List<String> unnoticed = new ArrayList<>();
        List<String> taken = new ArrayList<>();
        try (StandaloneRedis redis = StandaloneRedis.start(RedisOptions.DEFAULTS.withShippedConf(
                    ProjectConf.aclFileWithPasswords(Map.of("tomcat-cache", PASSWORD)), "admin", "attack-admin"));
             Jedis admin = redis.node().client();
             RedisClientHolder client = RedisConnector.connect(RedisConnectionSettings.parse(Map.of(
                     RedisConnectionSettings.REDIS_URI, "redis://tomcat-cache:" + PASSWORD + "@" + redis.node().host()
                             + ":" + redis.node().port())::get), "test")) {
            AclCheck check = CacheAcl.check("test", "tomcat-cache", "tomcat-cache:/shop:",
                    new CacheKeys("tomcat-cache:/shop:"), true);
            assertThat(check.run(client).denied()).isEmpty();
            for (String rule : line.split(" ")) {
                if (!rule.startsWith("+") || connectionOnly.contains(rule)) {
                    continue;
                }
                admin.aclSetUser("tomcat-cache", "-" + rule.substring(1));
                taken.add(rule);
                AclCheck.Result result = check.run(client);
                String said = result.passed() ? String.join("\n", check.featureWarnings(result)) : check.problem(result);
                String command = rule.substring(1).replace('|', ' ').toUpperCase(Locale.ROOT);
                if (said == null || !said.toUpperCase(Locale.ROOT).contains(command)) {
                    unnoticed.add(rule + ": " + said);
                }
                admin.aclSetUser("tomcat-cache", rule);
            }
        }
        assertThat(taken).as("command rules taken away").hasSizeGreaterThan(25).contains("+hset", "+publish");
        assertThat(unnoticed).as("rules whose absence the startup check does not name").isEmpty();
    }
}
