package io.tomcatredis.session.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import io.tomcatredis.connection.RedisClientHolder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.UnifiedJedis;

/**
 * The Redis layout documented in {@link SessionKeys} and {@link SessionHashFormat}, asserted as
 * literal keys, fields and TTLs on a real Redis, the way Spring Session's repository tests assert
 * the layout its Javadoc documents.
 */
class RedisSessionLayoutIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    private static final String PREFIX = "tomcat-session:localhost/app:";
    private static final String ID = "0123456789ABCDEF0123456789ABCDEF";
    private static final String HASH = PREFIX + "{" + ID + "}";
    private static final String INDEX = PREFIX + "expirations";

    private UnifiedJedis jedis;
    private RedisSessionStore store;

    @BeforeEach
    void connect() {
        REDIS.get().flushAll();
        jedis = RedisClient.builder().hostAndPort(REDIS.get().node().hostAndPort())
                .clientConfig(REDIS.get().clientConfig()).build();
        UnifiedJedis client = jedis;
        store = new RedisSessionStore(new RedisClientHolder(() -> client, RedisClientHolder.Reopen.NEVER, 2000, 100,
                "test"), new SessionKeys(PREFIX), false, 2000, 0, 0, 0);
    }

    @AfterEach
    void close() {
        jedis.close();
    }

    @Test
    void newSessionIsOneHashWithLiteralFieldsAnIndexEntryWithoutRouteAndTtls() {
        long version = store.save(ID + ".node1", SessionChanges.created(1_000, 600).id(ID + ".node1")
                .setAttribute("color", bytes("blue")));

        assertThat(version).isEqualTo(1);
        assertThat(jedis.keys("*")).containsExactlyInAnyOrder(HASH, INDEX);
        Map<String, String> hash = jedis.hgetAll(HASH);
        assertThat(hash).containsOnlyKeys("meta:creationTime", "meta:lastAccessedTime", "meta:maxInactiveInterval",
                "meta:version", "meta:touchInterval", "meta:id", "attr:color");
        assertThat(hash).as("this store writes every access").containsEntry("meta:touchInterval", "0");
        assertThat(hash).containsEntry("meta:id", ID + ".node1");
        assertThat(hash).containsEntry("meta:creationTime", "1000").containsEntry("meta:maxInactiveInterval", "600")
                .containsEntry("meta:version", "1").containsEntry("attr:color", "blue");
        long redisNow = redisMillis();
        assertThat(Long.parseLong(hash.get("meta:lastAccessedTime"))).as("Redis' clock").isBetween(redisNow - 5000,
                redisNow);
        assertThat(jedis.zrangeWithScores(INDEX, 0, -1)).singleElement().satisfies(entry -> {
            assertThat(entry.getElement()).isEqualTo(ID);
            assertThat((long) entry.getScore()).isEqualTo(Long.parseLong(hash.get("meta:lastAccessedTime")) + 600_000);
        });
        assertThat(jedis.pttl(HASH)).isBetween(600_000L, (600 + SessionKeys.TTL_GRACE_SECONDS) * 1000);
        assertThat(jedis.pttl(INDEX)).isPositive();
    }

    /**
     * The principal index as {@link PrincipalIndex} documents it: {@code <keyPrefix>principal:{u:<base64url
     * of the name>}}, a sorted set of ids without route scored by Redis' clock when written, with a
     * TTL at least the session's; {@code meta:principalName} in the hash; left at sign-out and
     * invalidation.
     */
    @Test
    void principalIndexIsASortedSetPerUserNameWithATtlAndMetaPrincipalNameInTheHash() {
        String annIndex = PREFIX + "principal:{u:YW5u}";
        store.save(ID + ".node1", SessionChanges.created(1_000, 600).id(ID + ".node1")
                .authentication(bytes("serialized"), "FORM", "ann").indexedUnder("ann", null, 600));

        assertThat(jedis.hget(HASH, "meta:principalName")).isEqualTo("ann");
        assertThat(jedis.type(annIndex)).isEqualTo("zset");
        long redisNow = redisMillis();
        assertThat(jedis.zrangeWithScores(annIndex, 0, -1)).singleElement().satisfies(entry -> {
            assertThat(entry.getElement()).isEqualTo(ID);
            assertThat((long) entry.getScore()).as("written at, by Redis' clock").isBetween(redisNow - 5000, redisNow);
        });
        assertThat(jedis.pttl(annIndex)).isGreaterThanOrEqualTo(jedis.pttl(HASH))
                .isLessThanOrEqualTo(PrincipalIndex.ttlMillis(600));
        jedis.pexpire(annIndex, 1_000);
        store.save(ID, SessionChanges.update().setAttribute("a", bytes("1")).indexedUnder("ann", "ann", 600));
        assertThat(jedis.pttl(annIndex)).as("every save extends it").isGreaterThan(600_000);

        assertThat(store.principalIndex().sessions("ann")).singleElement()
                .isEqualTo(new PrincipalIndex.Member(ID + ".node1", 1_000,
                        Long.parseLong(jedis.hget(HASH, "meta:lastAccessedTime")), false));

        store.save(ID, SessionChanges.update().authentication(null, null).principalName(null)
                .indexedUnder(null, "ann", 600));
        assertThat(jedis.exists(annIndex)).as("signed out").isFalse();
        assertThat(jedis.hexists(HASH, "meta:principalName")).isFalse();

        store.save(ID, SessionChanges.update().principalName("bob").indexedUnder("bob", null, 600));
        assertThat(jedis.zrange(PREFIX + "principal:{u:Ym9i}", 0, -1)).containsExactly(ID);
        assertThat(store.invalidate(ID)).isTrue();
        assertThat(jedis.keys("*")).as("invalidated: nothing left").isEmpty();
    }

    @Test
    void aPrincipalIndexKeyOfAnotherTypeFailsTheReadClearlyAndTheNextSignInReplacesIt() {
        String annIndex = PREFIX + "principal:{u:YW5u}";
        jedis.set(annIndex, "foreign");

        assertThatThrownBy(() -> store.principalIndex().sessions("ann"))
                .isInstanceOf(SessionStoreUnavailableException.class).hasMessageContaining("WRONGTYPE");

        store.save(ID, SessionChanges.created(1_000, 600).authentication(bytes("p"), "FORM", "ann")
                .indexedUnder("ann", null, 600));
        assertThat(jedis.zrange(annIndex, 0, -1)).containsExactly(ID);
        assertThat(store.principalIndex().sessions("ann")).extracting(PrincipalIndex.Member::id).containsExactly(ID);
    }

    @Test
    void saveWritesOnlyWhatChangedAndComputesDeadlineAndTtlFromTheHash() {
        store.save(ID, SessionChanges.created(1_000, 600).setAttribute("a", bytes("1")).setAttribute("b", bytes("2")));
        // Another node set maxInactiveInterval to 100 meanwhile.
        jedis.hset(HASH, "meta:maxInactiveInterval", "100");

        long version = store.save(ID, SessionChanges.update().setAttribute("a", bytes("3")).removeAttribute("b"));

        assertThat(version).isEqualTo(2);
        assertThat(jedis.hgetAll(HASH)).containsEntry("attr:a", "3").doesNotContainKey("attr:b")
                .containsEntry("meta:maxInactiveInterval", "100");
        long last = Long.parseLong(jedis.hget(HASH, "meta:lastAccessedTime"));
        assertThat(jedis.zscore(INDEX, ID)).isEqualTo(last + 100_000.0);
        assertThat(jedis.pttl(HASH)).isBetween(1L, (100 + SessionKeys.TTL_GRACE_SECONDS) * 1000);
    }

    @Test
    void saveNeverResurrectsNorMovesLastAccessedTimeBack() {
        store.save(ID, SessionChanges.created(1_000, 600));
        jedis.hset(HASH, "meta:lastAccessedTime", Long.toString(redisMillis() + 60_000));
        String future = jedis.hget(HASH, "meta:lastAccessedTime");

        store.save(ID, SessionChanges.update());
        assertThat(jedis.hget(HASH, "meta:lastAccessedTime")).isEqualTo(future);

        jedis.del(HASH);
        assertThat(store.save(ID, SessionChanges.update().setAttribute("a", bytes("1")))).isEqualTo(-1);
        assertThat(jedis.exists(HASH)).isFalse();
    }

    /** Tomcat never expires a session in use: only a claim (which moves the hash away) ends it. */
    @Test
    void saveOfAnExistingSessionPastItsDeadlineIsKeptButAClaimedSessionNeverRevives() {
        store.save(ID, SessionChanges.created(1_000, 600));
        // A request loaded it live; its deadline passed while it ran.
        jedis.hset(HASH, "meta:lastAccessedTime", Long.toString(redisMillis() - 601_000));

        assertThat(store.save(ID, SessionChanges.update().setAttribute("late", bytes("1")))).isEqualTo(2);
        long last = Long.parseLong(jedis.hget(HASH, "meta:lastAccessedTime"));
        assertThat(last).as("renewed by Redis' clock").isGreaterThan(redisMillis() - 5000);
        assertThat(jedis.zscore(INDEX, ID)).isEqualTo(last + 600_000.0);
        assertThat(jedis.hget(HASH, "attr:late")).isEqualTo("1");

        jedis.hset(HASH, "meta:lastAccessedTime", Long.toString(redisMillis() - 601_000));
        assertThat(store.claimIfExpired(ID)).isNotNull();
        assertThat(store.save(ID, SessionChanges.update().setAttribute("later", bytes("1")))).isEqualTo(-1);
        assertThat(jedis.keys("*")).as("nothing revived").isEmpty();
    }

    @Test
    void saveOverACorruptVersionStartsItAfreshWithoutWritingHalfOfItsChanges() {
        store.save(ID, SessionChanges.created(1_000, 600).setAttribute("a", bytes("1")));
        for (String corrupt : List.of("not-a-number", "1.5", "-3", "99999999999999999999", "inf", "nan", "")) {
            jedis.hset(HASH, "meta:version", corrupt);

            long version = store.save(ID, SessionChanges.update().setAttribute("a", bytes(corrupt)));

            assertThat(version).as("restarted at Redis' clock, never a version a copy holds: " + corrupt)
                    .isBetween(redisMillis() - 5000, redisMillis() + 1);
            assertThat(jedis.hget(HASH, "meta:version")).isEqualTo(Long.toString(version));
            assertThat(jedis.hget(HASH, "attr:a")).isEqualTo(corrupt);
        }
    }

    @Test
    void saveOfFourThousandAttributesSucceedsAtomically() {
        SessionChanges changes = SessionChanges.created(1_000, 600);
        for (int i = 0; i < 4000; i++) {
            changes.setAttribute("attribute-" + i, bytes("value-" + i));
        }
        assertThat(store.save(ID, changes)).isEqualTo(1);
        assertThat(jedis.hlen(HASH)).as("with 5 meta: fields").isEqualTo(4000 + 5);

        SessionChanges removals = SessionChanges.update();
        for (int i = 0; i < 4000; i++) {
            removals.removeAttribute("attribute-" + i);
        }
        assertThat(store.save(ID, removals)).isEqualTo(2);
        assertThat(jedis.hlen(HASH)).isEqualTo(5);
    }

    @Test
    void loadAnswersAbsentUnchangedLoadedOrExpired() {
        assertThat(store.load(ID, 0)).isInstanceOf(LoadResult.Absent.class);
        long version = store.save(ID, SessionChanges.created(1_000, 600).setAttribute("a", bytes("1")));

        assertThat(store.load(ID, version)).isInstanceOf(LoadResult.Unchanged.class);
        assertThat(store.load(ID + ".other", version - 1)).isInstanceOfSatisfying(LoadResult.Loaded.class,
                loaded -> {
                    assertThat(loaded.session().version()).isEqualTo(version);
                    assertThat(loaded.session().attributes()).containsOnlyKeys("a");
                });

        jedis.hset(HASH, "meta:lastAccessedTime", Long.toString(redisMillis() - 601_000));
        assertThat(store.load(ID, version)).isInstanceOf(LoadResult.Expired.class);
    }

    @Test
    void loadWithoutACopyIsOneHgetallWhileRedisClockSaysTheDeadlineIsAhead() {
        AtomicLong nanos = new AtomicLong(System.nanoTime());
        RedisSessionStore sampled = storeWithTicker(nanos::get);
        long version = sampled.save(ID, SessionChanges.created(1_000, 600).setAttribute("a", bytes("1")));
        sampled.sampleClock();
        jedis.sendCommand(redis.clients.jedis.Protocol.Command.CONFIG, "RESETSTAT");

        assertThat(sampled.load(ID, 0)).isInstanceOfSatisfying(LoadResult.Loaded.class,
                loaded -> assertThat(loaded.session().version()).isEqualTo(version));
        assertThat(commandCalls()).containsEntry("hgetall", 1L).doesNotContainKeys("evalsha", "eval");

        // Within the margin of the deadline, Redis' clock decides: still live.
        jedis.hset(HASH, "meta:lastAccessedTime", Long.toString(redisMillis() - 600_000 + RedisClock.MARGIN_MILLIS / 2));
        jedis.sendCommand(redis.clients.jedis.Protocol.Command.CONFIG, "RESETSTAT");
        assertThat(sampled.load(ID, 0)).isInstanceOf(LoadResult.Loaded.class);
        assertThat(commandCalls()).containsEntry("evalsha", 1L);

        // Past the deadline by Redis' clock: expired, however the node's sample reads.
        jedis.hset(HASH, "meta:lastAccessedTime", Long.toString(redisMillis() - 600_000 - 10));
        assertThat(sampled.load(ID, 0)).isInstanceOf(LoadResult.Expired.class);

        // A sample too old for the estimate: every verdict by Redis' clock.
        jedis.hset(HASH, "meta:lastAccessedTime", Long.toString(redisMillis()));
        nanos.addAndGet(RedisClock.MAX_AGE_NANOS + 1);
        jedis.sendCommand(redis.clients.jedis.Protocol.Command.CONFIG, "RESETSTAT");
        assertThat(sampled.load(ID, 0)).isInstanceOf(LoadResult.Loaded.class);
        assertThat(commandCalls()).containsEntry("evalsha", 1L);
    }

    @Test
    void loadWithoutAClockSampleAsksRedisClock() {
        store.save(ID, SessionChanges.created(1_000, 600).setAttribute("a", bytes("1")));
        jedis.hset(HASH, "meta:lastAccessedTime", Long.toString(redisMillis() - 601_000));

        assertThat(store.load(ID, 0)).isInstanceOf(LoadResult.Expired.class);
    }

    @Test
    void touchIntervalIsTheNodesCappedAtATenthOfTheIntervalAndTheDeadlineAllowsForIt() {
        RedisSessionStore touching = storeWithTouchInterval(5_000, System::nanoTime);
        touching.save(ID, SessionChanges.created(1_000, 600));

        assertThat(jedis.hget(HASH, "meta:touchInterval")).isEqualTo("5000");
        long last = Long.parseLong(jedis.hget(HASH, "meta:lastAccessedTime"));
        assertThat(jedis.zscore(INDEX, ID)).isEqualTo(last + 600_000.0 + 5_000);
        assertThat(jedis.pttl(HASH)).isBetween(600_000L, (600 + SessionKeys.TTL_GRACE_SECONDS) * 1000 + 5_000);

        // A tenth of a 20 s interval is 2 s; this save keeps what remains of the stored 5 s window,
        // on which a node that left the access time alone relied, in meta:touchInterval too, so that
        // later saves and load.lua count it.
        long window = last + 5_000;
        touching.save(ID, SessionChanges.update().maxInactiveInterval(20));
        assertWindowKept(window, 20, 2_000);

        touching.save(ID, SessionChanges.update());
        assertWindowKept(window, 20, 2_000);

        // A node that writes every access: its own touch interval is 0, the window is still kept.
        store.save(ID, SessionChanges.update());
        assertWindowKept(window, 20, 0);
    }

    /**
     * meta:touchInterval is the larger of the saving node's own ({@code own}) and what remains of
     * {@code window}, and the index score is the deadline load.lua computes from the hash.
     */
    private void assertWindowKept(long window, int interval, long own) {
        long last = Long.parseLong(jedis.hget(HASH, "meta:lastAccessedTime"));
        long touch = Long.parseLong(jedis.hget(HASH, "meta:touchInterval"));
        assertThat(touch).isEqualTo(Math.max(own, window - last));
        assertThat(jedis.zscore(INDEX, ID)).isEqualTo((double) last + interval * 1000L + touch);
    }

    @Test
    void loadAndClaimCountTheTouchIntervalInTheDeadline() {
        store.save(ID, SessionChanges.created(1_000, 600).setAttribute("a", bytes("1")));
        jedis.hset(HASH, Map.of("meta:lastAccessedTime", Long.toString(redisMillis() - 610_000),
                "meta:touchInterval", "60000"));

        assertThat(store.load(ID, 0)).isInstanceOf(LoadResult.Loaded.class);
        assertThat(store.claimIfExpired(ID)).isNull();
        long last = Long.parseLong(jedis.hget(HASH, "meta:lastAccessedTime"));
        assertThat(jedis.zscore(INDEX, ID)).isEqualTo(last + 600_000.0 + 60_000);

        jedis.hset(HASH, "meta:touchInterval", "5000");
        assertThat(store.load(ID, 0)).isInstanceOf(LoadResult.Expired.class);
        assertThat(store.claimIfExpired(ID)).isNotNull();
    }

    /** A corrupt meta:touchInterval never makes a session immortal: it counts as 0, at most an hour. */
    @ParameterizedTest
    @ValueSource(strings = {"nan", "-nan", "inf", "-inf", "1e300", "-5", "abc", "", "12.5"})
    void corruptTouchIntervalCountsAsAtMostAnHourAndASaveHealsIt(String corrupt) {
        RedisSessionStore sampled = storeWithTouchInterval(5_000, System::nanoTime);
        sampled.save(ID, SessionChanges.created(1_000, 600).setAttribute("a", bytes("1")));
        sampled.sampleClock();
        jedis.hset(HASH, "meta:touchInterval", corrupt);

        assertThat(sampled.load(ID, 0)).as("live").isInstanceOf(LoadResult.Loaded.class);
        assertThat(sampled.save(ID, SessionChanges.update())).isEqualTo(2);
        assertThat(Long.parseLong(jedis.hget(HASH, "meta:touchInterval"))).as("healed, or what remains of its window,"
                + " counted up to the grace").isBetween(5_000L, SessionKeys.TTL_GRACE_SECONDS * 1000);

        jedis.hset(HASH, Map.of("meta:lastAccessedTime", Long.toString(redisMillis() - 600_000 - 3_600_001),
                "meta:touchInterval", corrupt));
        assertThat(sampled.load(ID, 0)).isInstanceOf(LoadResult.Expired.class);
        assertThat(sampled.claimIfExpired(ID)).isNotNull();
    }

    @Test
    void accessIsRecordedWhileTheStoredAccessTimeIsYoungerThanItsTouchIntervalByRedisClock() {
        AtomicLong nanos = new AtomicLong(System.nanoTime());
        RedisSessionStore touching = storeWithTouchInterval(5_000, nanos::get);
        touching.save(ID, SessionChanges.created(1_000, 600));
        long last = Long.parseLong(jedis.hget(HASH, "meta:lastAccessedTime"));

        assertThat(touching.isAccessRecorded(last, 5_000)).as("no sample of Redis' clock yet").isFalse();
        touching.sampleClock();
        assertThat(touching.isAccessRecorded(last, 5_000)).isTrue();
        assertThat(touching.isAccessRecorded(last, 0)).as("every access written").isFalse();
        assertThat(touching.isAccessRecorded(last, RedisClock.MARGIN_MILLIS)).as("within the clock's margin").isFalse();

        nanos.addAndGet(5_000_000_000L - RedisClock.MARGIN_MILLIS * 1_000_000);
        assertThat(touching.isAccessRecorded(last, 5_000)).as("the interval (less the margin) passed").isFalse();
        assertThat(touching.isAccessRecorded(last + 3_000, 5_000)).as("a newer access time").isTrue();
    }

    @Test
    void hashWithoutCreationTimeOrOfAnotherTypeIsAbsent() {
        jedis.hset(HASH, "meta:version", "3");
        assertThat(store.load(ID, 0)).isInstanceOf(LoadResult.Absent.class);
        jedis.del(HASH);
        jedis.set(HASH, "not a hash");
        assertThat(store.load(ID, 0)).isInstanceOf(LoadResult.Absent.class);
    }

    @Test
    void claimRetriedWithItsTokenAfterALostReplyWinsAgainAndNobodyElseWins() {
        store.save(ID, SessionChanges.created(1_000, 600).setAttribute("a", bytes("1")));
        jedis.hset(HASH, "meta:lastAccessedTime", Long.toString(redisMillis() - 601_000));

        Object first = store.runClaim(ID, true, "token-1");
        Object retried = store.runClaim(ID, true, "token-1");
        Object other = store.runClaim(ID, true, "token-2");

        assertThat(first).isInstanceOf(List.class);
        assertThat(retried).isInstanceOf(List.class);
        assertThat(other).isNull();
        assertThat(jedis.exists(HASH)).isFalse();
        assertThat(jedis.zcard(INDEX)).isZero();
        assertThat(jedis.pttl(HASH + ":claimed")).as("the claim key lives at most 60 s").isBetween(1L, 60_000L);
    }

    /**
     * One pipelined round trip claims a batch: a due session is won with its fields, a live one
     * is left (its index entry corrected), one whose keys ended by their TTL more than the grace
     * past its deadline is reported lapsed, and one deleted early (within its grace) is just not
     * claimed; the claim keys of the batch before are deleted in the same round trip.
     */
    @Test
    void aBatchOfExpiryClaimsIsOneRoundTripWithAnOutcomePerSession() {
        String due = "D0000000000000000000000000000001";
        String live = "D0000000000000000000000000000002";
        String lapsed = "D0000000000000000000000000000003";
        String deleted = "D0000000000000000000000000000004";
        String previous = "D0000000000000000000000000000005";
        for (String id : List.of(due, live)) {
            store.save(id, SessionChanges.created(1_000, 600).setAttribute("a", bytes("1")));
        }
        long now = redisMillis();
        jedis.hset(PREFIX + "{" + due + "}", "meta:lastAccessedTime", Long.toString(now - 601_000));
        jedis.zadd(INDEX, now - SessionKeys.TTL_GRACE_SECONDS * 1000 - 1_000, lapsed);
        jedis.zadd(INDEX, now - 1_000, deleted);
        jedis.hset(PREFIX + "{" + previous + "}:claimed", "claim:token", "t");
        long roundTrips = store.statistics().roundTrips();

        List<ExpiryClaim> claims = store.claimExpired(List.of(due, live, lapsed, deleted), List.of(previous));

        assertThat(store.statistics().roundTrips() - roundTrips).isEqualTo(1);
        assertThat(claims.get(0)).isInstanceOfSatisfying(ExpiryClaim.Won.class,
                won -> assertThat(won.session().attributes()).containsOnlyKeys("a"));
        assertThat(claims.subList(1, 4)).extracting(Object::getClass).containsExactly(ExpiryClaim.NotClaimed.class,
                ExpiryClaim.Lapsed.class, ExpiryClaim.NotClaimed.class);
        assertThat(jedis.zrange(INDEX, 0, -1)).containsExactly(live);
        assertThat(jedis.exists(PREFIX + "{" + previous + "}:claimed")).as("released with the batch").isFalse();
        assertThat(jedis.exists(PREFIX + "{" + due + "}:claimed")).as("kept until the listeners ran").isTrue();

        store.releaseClaims(List.of(due));
        assertThat(jedis.exists(PREFIX + "{" + due + "}:claimed")).isFalse();
    }

    /** Foreign data under a session's key: its entry leaves the index, the batch goes on. */
    @Test
    void aCorruptEntryInABatchIsDroppedWithoutFailingTheOthers() {
        String corrupt = "C0000000000000000000000000000001";
        String due = "C0000000000000000000000000000002";
        store.save(due, SessionChanges.created(1_000, 600));
        long now = redisMillis();
        jedis.hset(PREFIX + "{" + due + "}", "meta:lastAccessedTime", Long.toString(now - 601_000));
        jedis.set(PREFIX + "{" + corrupt + "}", "not a hash");
        jedis.zadd(INDEX, now - 1_000, corrupt);

        List<ExpiryClaim> claims = store.claimExpired(List.of(corrupt, due), List.of());

        assertThat(claims.get(0)).isInstanceOf(ExpiryClaim.NotClaimed.class);
        assertThat(claims.get(1)).isInstanceOf(ExpiryClaim.Won.class);
        assertThat(jedis.zcard(INDEX)).isZero();
        assertThat(jedis.get(PREFIX + "{" + corrupt + "}")).as("never ours to delete").isEqualTo("not a hash");
    }

    @Test
    void scriptsRedisForgotAreSentAgainInFullWithinTheBatch() {
        String due = "E0000000000000000000000000000001";
        store.save(due, SessionChanges.created(1_000, 600));
        jedis.hset(PREFIX + "{" + due + "}", "meta:lastAccessedTime", Long.toString(redisMillis() - 601_000));
        jedis.scriptFlush();

        assertThat(store.claimExpired(List.of(due), List.of())).singleElement().isInstanceOf(ExpiryClaim.Won.class);
    }

    /**
     * extend.lua: when a sweep ends behind, every due session's keys live on (PEXPIRE ... GT), so
     * the next run still finds them and fires their listeners; nothing else changes.
     */
    @Test
    void keepDueAliveExtendsTheKeysOfEveryDueSessionAndNothingElse() {
        long now = redisMillis();
        for (int i = 0; i < 2_500; i++) {
            String id = String.format("K%031d", i);
            jedis.hset(PREFIX + "{" + id + "}", "meta:lastAccessedTime", "1000");
            jedis.pexpire(PREFIX + "{" + id + "}", 60_000);
            jedis.zadd(INDEX, now - 1_000_000 + i, id);
        }
        jedis.hset(PREFIX + "{LIVE}", "meta:lastAccessedTime", "1000");
        jedis.pexpire(PREFIX + "{LIVE}", 60_000);
        jedis.zadd(INDEX, now + 600_000, "LIVE");
        jedis.hset(PREFIX + "{LONGER}", "meta:lastAccessedTime", "1000");
        jedis.pexpire(PREFIX + "{LONGER}", 9_000_000);
        jedis.zadd(INDEX, now - 5_000, "LONGER");
        jedis.zadd(INDEX, now - 5_000, "GONE");
        jedis.hset(PREFIX + "{" + String.format("K%031d", 7) + "}", "meta:dataKeys", "cart\nseen");
        jedis.set(PREFIX + "{" + String.format("K%031d", 7) + "}:data:cart", "x");
        jedis.pexpire(PREFIX + "{" + String.format("K%031d", 7) + "}:data:cart", 60_000);

        store.keepDueAlive(now, 1_000_000, 2_502);

        assertThat(jedis.pttl(PREFIX + "{" + String.format("K%031d", 7) + "}:data:cart")).as("its structures too")
                .isGreaterThan(900_000L);
        assertThat(jedis.exists(PREFIX + "{" + String.format("K%031d", 7) + "}:data:seen")).isFalse();

        for (int i = 0; i < 2_500; i += 499) {
            assertThat(jedis.pttl(PREFIX + "{" + String.format("K%031d", i) + "}")).as("due " + i)
                    .isGreaterThan(900_000L);
        }
        assertThat(jedis.pttl(PREFIX + "{LIVE}")).as("not due").isLessThanOrEqualTo(60_000L);
        assertThat(jedis.pttl(PREFIX + "{LONGER}")).as("never shortened").isGreaterThan(8_000_000L);
        assertThat(jedis.exists(PREFIX + "{GONE}")).as("never created").isFalse();
    }

    /**
     * due.lua: window w of n among the first min(ceil(due / n), windows) of the due range, most
     * overdue first, with the count of due entries and the most overdue deadline.
     */
    @Test
    void dueReadsTheWindowDrawnAmongTheFirstWindowsOfTheDueRange() {
        for (int i = 0; i < 25; i++) {
            jedis.zadd(INDEX, 1_000 + i, String.format("S%031d", i));
        }
        jedis.zadd(INDEX, 9_000_000, "NOT-DUE");

        DueSessions first = store.dueForExpiry(5_000, 10, 0, 16);
        DueSessions third = store.dueForExpiry(5_000, 10, 2, 16);
        DueSessions wrapped = store.dueForExpiry(5_000, 10, 4, 16);
        DueSessions spreadOverTwo = store.dueForExpiry(5_000, 10, 3, 2);

        assertThat(first.count()).isEqualTo(25);
        assertThat(first.mostOverdueDeadline()).isEqualTo(1_000);
        assertThat(first.ids()).hasSize(10).startsWith(String.format("S%031d", 0));
        assertThat(third.ids()).hasSize(5).startsWith(String.format("S%031d", 20)).doesNotContain("NOT-DUE");
        assertThat(wrapped.ids()).as("window 4 of 3").startsWith(String.format("S%031d", 10));
        assertThat(spreadOverTwo.ids()).as("window 3 of 2").startsWith(String.format("S%031d", 10));
        assertThat(store.dueForExpiry(500, 10, 0, 16)).isEqualTo(DueSessions.NONE);
    }

    @Test
    void claimIfExpiredLeavesALiveSessionAndCorrectsItsIndexEntry() {
        store.save(ID, SessionChanges.created(1_000, 600));
        jedis.zadd(INDEX, 1, ID);

        assertThat(store.claimIfExpired(ID)).isNull();

        assertThat(jedis.exists(HASH)).isTrue();
        assertThat(jedis.zscore(INDEX, ID)).isEqualTo(Long.parseLong(jedis.hget(HASH, "meta:lastAccessedTime"))
                + 600_000.0);
    }

    @Test
    void saveWithAnExpiryIndexOfAnotherTypeFailsBeforeWritingAnything() {
        store.save(ID, SessionChanges.created(1_000, 600).setAttribute("a", bytes("1")));
        jedis.del(INDEX);
        jedis.set(INDEX, "not an index");
        Map<String, String> before = jedis.hgetAll(HASH);

        assertThatThrownBy(() -> store.save(ID, SessionChanges.update().setAttribute("a", bytes("2"))))
                .isInstanceOf(SessionStoreUnavailableException.class).hasMessageContaining("WRONGTYPE");

        assertThat(jedis.hgetAll(HASH)).isEqualTo(before);
        // A save that only removes deletes first (so that a full Redis still runs it): checked before.
        assertThatThrownBy(() -> store.save(ID, SessionChanges.update().removeAttribute("a")))
                .isInstanceOf(SessionStoreUnavailableException.class).hasMessageContaining("WRONGTYPE");
        assertThat(jedis.hgetAll(HASH)).isEqualTo(before);
    }

    @Test
    void sessionThatNeverExpiresIsIndexedAtTheEndOfItsKeysTtlAndRescheduledWhileItsHashExists() {
        store.save(ID, SessionChanges.created(1_000, 0));
        long saved = redisMillis();
        long ttlEnd = SessionKeys.NEVER_EXPIRES_TTL_SECONDS * 1000;
        assertThat(jedis.zscore(INDEX, ID).longValue()).isBetween(saved - 5000 + ttlEnd, saved + ttlEnd);
        assertThat(jedis.pttl(HASH)).isBetween(ttlEnd - 5000, ttlEnd);

        // Its entry came due while the hash still exists: moved to the hash's TTL end, never claimed.
        jedis.zadd(INDEX, 1, ID);
        jedis.pexpire(HASH, 120_000);
        assertThat(store.claimIfExpired(ID)).isNull();
        assertThat(jedis.zscore(INDEX, ID).longValue()).isBetween(redisMillis() + 110_000, redisMillis() + 120_000);

        // Its key's TTL ended: the entry goes when it comes due.
        jedis.del(HASH);
        assertThat(store.claimIfExpired(ID)).isNull();
        assertThat(jedis.exists(INDEX)).isFalse();
    }

    @Test
    void indexAuditRemovesEntriesOfSessionsWhoseKeyVanishedAndKeepsTheOthers() {
        String gone = "FEDCBA9876543210FEDCBA9876543210";
        store.save(ID, SessionChanges.created(1_000, 0));
        store.save(gone, SessionChanges.created(1_000, 0));
        store.save("AAAABBBBCCCCDDDDAAAABBBBCCCCDDDD", SessionChanges.created(1_000, 600));
        jedis.del(PREFIX + "{" + gone + "}");

        RedisSessionStore.IndexPosition next = store.auditIndex(RedisSessionStore.IndexPosition.START);

        assertThat(next).as("the whole index was seen").isEqualTo(RedisSessionStore.IndexPosition.START);
        assertThat(jedis.zrange(INDEX, 0, -1)).containsExactlyInAnyOrder(ID, "AAAABBBBCCCCDDDDAAAABBBBCCCCDDDD");
        assertThat(store.count()).isEqualTo(2);
    }

    @Test
    void indexAuditGoesPastAnIndexKeyOfAnotherType() {
        jedis.set(INDEX, "not an index");

        assertThat(store.auditIndex(RedisSessionStore.IndexPosition.START)).isEqualTo(RedisSessionStore.IndexPosition.START);
    }

    @Test
    void claimKeyOfAnotherTypeIsReplacedSoTheSessionIsStillClaimed() {
        store.save(ID, SessionChanges.created(1_000, 600).setAttribute("a", bytes("1")));
        jedis.set(HASH + ":claimed", "not a claim");
        jedis.hset(HASH, "meta:lastAccessedTime", Long.toString(redisMillis() - 601_000));

        assertThat(store.claimIfExpired(ID)).isNotNull().satisfies(claimed ->
                assertThat(claimed.attributes()).containsOnlyKeys("a"));
        assertThat(jedis.keys("*")).isEmpty();
    }

    @Test
    void invalidateDeletesHashStructuresIndexEntryAndLeavesNoKey() {
        store.save(ID, SessionChanges.created(1_000, -1));
        store.writeData(ID, "cart", "RPUSH", List.of("x"));
        assertThat(jedis.zscore(INDEX, ID)).isNotNull();

        assertThat(store.invalidate(ID + ".node2")).isTrue();
        assertThat(store.invalidate(ID)).isFalse();

        assertThat(jedis.keys("*")).isEmpty();
    }

    @Test
    void structureIsBoundToItsSessionByTheWriteItself() {
        assertThatThrownBy(() -> store.writeData(ID, "cart", "RPUSH", List.of("x")))
                .isInstanceOf(RedisSessionStore.NoSuchSessionException.class);
        assertThat(jedis.keys("*")).as("no structure without its session").isEmpty();

        store.save(ID, SessionChanges.created(1_000, 600));
        store.writeData(ID, "cart", "RPUSH", List.of("x"));
        store.writeData(ID, "seen", "SADD", List.of("p-1"));

        assertThat(jedis.hget(HASH, "meta:dataKeys")).isEqualTo("cart\nseen");
        long sessionTtl = jedis.pttl(HASH);
        // Set by the same script: equal up to the milliseconds between the two PTTL calls.
        assertThat(jedis.pttl(HASH + ":data:cart")).as("the session's TTL").isBetween(sessionTtl - 1000, sessionTtl + 1000);
        assertThat(store.changeId(ID, "FEDCBA9876543210FEDCBA9876543210")).isTrue();
        assertThat(jedis.keys("*")).containsExactlyInAnyOrder(PREFIX + "{FEDCBA9876543210FEDCBA9876543210}",
                PREFIX + "{FEDCBA9876543210FEDCBA9876543210}:data:cart",
                PREFIX + "{FEDCBA9876543210FEDCBA9876543210}:data:seen", INDEX);
    }

    /**
     * {@code rename.lua}: HSETNX meta:sealId &lt;old id&gt;, then RENAME. The first id change records the
     * id the session had, the next ones keep it; loads report it, for the encryption's binding.
     */
    @Test
    void anIdChangeRecordsTheFirstIdAsSealId() {
        store.save(ID, SessionChanges.created(1_000, 600));
        assertThat(jedis.hexists(HASH, "meta:sealId")).as("absent until an id change").isFalse();
        String second = "FEDCBA9876543210FEDCBA9876543210";
        String third = "00112233445566778899AABBCCDDEEFF";

        assertThat(store.changeId(ID + ".node1", second + ".node2")).isTrue();
        assertThat(jedis.hget(PREFIX + "{" + second + "}", "meta:sealId")).isEqualTo(ID);
        assertThat(store.changeId(second, third)).isTrue();
        assertThat(jedis.hget(PREFIX + "{" + third + "}", "meta:sealId")).as("kept").isEqualTo(ID);
        LoadResult loaded = store.load(third, 0);
        assertThat(((LoadResult.Loaded) loaded).session().binding(third)).isEqualTo(ID);
    }

    private RedisSessionStore storeWithTouchInterval(int touchIntervalMillis, LongSupplier ticker) {
        UnifiedJedis client = jedis;
        return new RedisSessionStore(new RedisClientHolder(() -> client, RedisClientHolder.Reopen.NEVER, 2000, 100,
                "test"), new SessionKeys(PREFIX), false, 2000, 0, 0, touchIntervalMillis, ticker);
    }

    private RedisSessionStore storeWithTicker(LongSupplier ticker) {
        UnifiedJedis client = jedis;
        return new RedisSessionStore(new RedisClientHolder(() -> client, RedisClientHolder.Reopen.NEVER, 2000, 100,
                "test"), new SessionKeys(PREFIX), false, 2000, 0, 0, 0, ticker);
    }

    /** Calls per command since the last CONFIG RESETSTAT (INFO commandstats). */
    private Map<String, Long> commandCalls() {
        Map<String, Long> calls = new java.util.HashMap<>();
        for (String line : jedis.info("commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_")) {
                String command = line.substring("cmdstat_".length(), line.indexOf(':'));
                calls.put(command, Long.parseLong(line.replaceAll("^[^:]*:calls=(\\d+),.*$", "$1")));
            }
        }
        calls.remove("info");
        calls.remove("config|resetstat");
        return calls;
    }

    private long redisMillis() {
        List<String> time = jedis.sendCommand(redis.clients.jedis.Protocol.Command.TIME) instanceof List<?> reply
                ? reply.stream().map(part -> new String((byte[]) part, StandardCharsets.US_ASCII)).toList() : List.of();
        return Long.parseLong(time.get(0)) * 1000 + Long.parseLong(time.get(1)) / 1000;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
