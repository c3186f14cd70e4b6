package io.tomcatredis.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

import io.tomcatredis.session.store.SessionStoreUnavailableException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class PreScopeLookupsTest {

    private final PreScopeLookups lookups = new PreScopeLookups();
    private final List<String> asked = new ArrayList<>();
    private final RedisSession live = mock(RedisSession.class);

    private Function<String, RedisSession> redis(String liveId) {
        return id -> {
            asked.add(id);
            return id.equals(liveId) ? live : null;
        };
    }

    @Test
    void oneRequestLooksUpAtMostFourSessionsAndRefusesEveryFurtherOne() {
        for (String id : List.of("a", "b", "c", "d", "e")) {
            assertThat(lookups.find(id, redis("e"))).isNull();
        }

        assertThat(asked).hasSize(PreScopeLookups.MAX_REDIS_LOOKUPS).containsExactly("a", "b", "c", "d");
    }

    @Test
    void aLiveSessionAmongStaleCookiesIsFoundWithinTheBudget() {
        assertThat(lookups.find("a", redis("b"))).isNull();
        assertThat(lookups.find("b", redis("b"))).isSameAs(live);

        assertThat(asked).containsExactly("a", "b");
    }

    @Test
    void otherRoutesOfAnIdAlreadyAskedAreAnsweredWithoutAnotherLookup() {
        for (int i = 1; i <= 10; i++) {
            assertThat(lookups.find("A.r" + i, redis("none"))).isNull();
        }

        assertThat(asked).containsExactly("A.r1");
    }

    @Test
    void aRedisFailureAnswersNoSessionAsksNothingMoreAndIsHandedToTheRequestOnce() {
        SessionStoreUnavailableException down = new SessionStoreUnavailableException("down", null);
        Function<String, RedisSession> failing = id -> {
            asked.add(id);
            throw down;
        };

        assertThat(lookups.find("a", failing)).isNull();
        assertThat(lookups.find("b", failing)).isNull();
        lookups.enter();

        assertThat(asked).containsExactly("a");
        assertThat(lookups.takeFailures()).containsExactly(Map.entry("a", down));
        assertThat(lookups.takeFailures()).isEmpty();
        lookups.leave();
    }

    @Test
    void failuresOfOneRequestAreNotHandedToTheNextOne() {
        lookups.find("a", id -> {
            throw new SessionStoreUnavailableException("down", null);
        });
        lookups.enter();
        lookups.leave();
        lookups.enter();

        assertThat(lookups.takeFailures()).isEmpty();
    }

    @Test
    void aLiveIdAskedAgainGetsTheSameAnswerWithoutAnotherLookup() {
        for (int i = 0; i < 30; i++) {
            assertThat(lookups.find("a", redis("a"))).isSameAs(live);
        }

        assertThat(asked).containsExactly("a");
    }

    @Test
    void aNewIdAfterALiveAnswerBelongsToTheNextRequest() {
        lookups.find("a", redis("a"));

        assertThat(lookups.find("b", redis("b"))).isSameAs(live);
        assertThat(asked).containsExactly("a", "b");
    }

    @Test
    void enteringTheHostPipelineLiftsTheLimitUntilLeftAndStartsAfresh() {
        lookups.find("a", redis("none"));
        lookups.enter();
        assertThat(lookups.isUnbounded()).isTrue();
        lookups.leave();

        assertThat(lookups.isUnbounded()).isFalse();
        assertThat(lookups.find("b", redis("b"))).isSameAs(live);
        assertThat(asked).containsExactly("a", "b");
    }
}
