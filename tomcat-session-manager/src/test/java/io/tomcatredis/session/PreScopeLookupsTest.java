package io.tomcatredis.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

import java.util.ArrayList;
import java.util.List;
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
    void oneRequestLooksUpOneIdAndRefusesEveryFurtherOne() {
        assertThat(lookups.find("a", redis("c"))).isNull();
        assertThat(lookups.find("b", redis("c"))).isNull();
        assertThat(lookups.find("c", redis("c"))).isNull();

        assertThat(asked).containsExactly("a");
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
