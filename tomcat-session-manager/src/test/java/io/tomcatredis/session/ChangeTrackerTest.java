package io.tomcatredis.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.store.SessionChanges;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ChangeTrackerTest {

    private final Map<String, Object> attributes = new HashMap<>();
    private final Map<String, Boolean> failing = new HashMap<>();
    private int encodings;

    private final ChangeTracker.Encoder encoder = (name, value, stored) -> {
        encodings++;
        return failing.getOrDefault(name, false) ? null : String.valueOf(value).getBytes(StandardCharsets.UTF_8);
    };

    private ChangeTracker.Snapshot state(boolean created) {
        return new ChangeTracker.Snapshot("AB.node1", created, 1_000, 1800, Map.copyOf(attributes), null, null, Set.of(), null);
    }

    private ChangeTracker storedWith(String name, Object value) {
        ChangeTracker tracker = new ChangeTracker();
        attributes.put(name, value);
        tracker.loaded(Map.of(name, String.valueOf(value).getBytes(StandardCharsets.UTF_8)), Set.of());
        return tracker;
    }

    @Test
    void newSessionWritesEveryAttributeAndItsMetadata() {
        ChangeTracker tracker = new ChangeTracker();
        attributes.put("count", 1);
        attributes.put("cart", new ArrayList<>(List.of("apple")));

        SessionChanges changes = tracker.drain(state(true), encoder);

        assertThat(changes.created()).isTrue();
        assertThat(changes.creationTime()).isEqualTo(1_000);
        assertThat(changes.maxInactiveInterval()).hasValue(1800);
        assertThat(changes.authenticationWritten()).isTrue();
        assertThat(changes.attributes()).containsOnlyKeys("count", "cart");
    }

    private ChangeTracker.Snapshot signedIn(String userName) {
        return new ChangeTracker.Snapshot("AB.node1", false, 1_000, 1800, Map.copyOf(attributes),
                userName == null ? null : new java.security.Principal() {
                    @Override
                    public String getName() {
                        return userName;
                    }
                }, userName == null ? null : "FORM", Set.of(), userName);
    }

    /** meta:principalName is written when the user changes only; the index entries follow it. */
    @Test
    void theUserIsWrittenWhenItChangesAndTheIndexFollowsIt() {
        ChangeTracker tracker = new ChangeTracker();
        tracker.loaded(Map.of(), Set.of());
        tracker.authenticationChanged();

        SessionChanges login = tracker.drain(signedIn("ann"), encoder);
        assertThat(login.principalNameWritten()).isTrue();
        assertThat(login.principalName()).isEqualTo("ann");
        assertThat(login.indexedName()).isEqualTo("ann");
        assertThat(login.previousIndexedName()).isNull();
        assertThat(login.indexedMaxInactiveInterval()).isEqualTo(1800);
        tracker.saved(login);

        SessionChanges access = tracker.drain(signedIn("ann"), encoder);
        assertThat(access.isAccessOnly()).as("the index's TTL is extended, nothing is rewritten").isTrue();
        assertThat(access.indexedName()).isEqualTo("ann");
        assertThat(access.previousIndexedName()).isEqualTo("ann");

        tracker.authenticationChanged();
        SessionChanges failedLogout = tracker.drain(signedIn(null), encoder);
        tracker.failed(failedLogout);
        SessionChanges logout = tracker.drain(signedIn(null), encoder);
        assertThat(logout.principalNameWritten()).as("retried after a failed save").isTrue();
        assertThat(logout.principalName()).isNull();
        assertThat(logout.indexedName()).isNull();
        assertThat(logout.previousIndexedName()).isEqualTo("ann");
        tracker.saved(logout);
        assertThat(tracker.storedPrincipalName()).isNull();
    }

    @Test
    void aSessionLoadedWithoutMetaPrincipalNameJoinsTheIndexAtItsNextSave() {
        ChangeTracker tracker = new ChangeTracker();
        tracker.loaded(Map.of(), Set.of());
        tracker.loadedPrincipal(null);

        SessionChanges changes = tracker.drain(signedIn("ann"), encoder);

        assertThat(changes.principalName()).isEqualTo("ann");
        assertThat(changes.indexedName()).isEqualTo("ann");
        assertThat(changes.previousIndexedName()).isNull();
    }

    @Test
    void readOnlyRequestWritesNothingButTheAccess() {
        ChangeTracker tracker = storedWith("cart", new ArrayList<>(List.of("apple")));

        SessionChanges changes = tracker.drain(state(false), encoder);

        assertThat(changes.isAccessOnly()).isTrue();
    }

    @Test
    void inPlaceMutationOfAReadValueIsWritten() {
        List<String> cart = new ArrayList<>(List.of("apple"));
        ChangeTracker tracker = storedWith("cart", cart);
        cart.add("pear");

        SessionChanges changes = tracker.drain(state(false), encoder);

        assertThat(changes.attributes()).containsOnlyKeys("cart");
        assertThat(new String(changes.attributes().get("cart"), StandardCharsets.UTF_8)).isEqualTo("[apple, pear]");
    }

    @Test
    void immutableValueThatWasOnlyReadIsNotSerializedAgain() {
        ChangeTracker tracker = storedWith("name", "ann");

        tracker.drain(state(false), encoder);

        assertThat(encodings).isZero();
    }

    @Test
    void failureToSerializeNeverDeletesTheStoredValue_regressionTransientEncodeFailure() {
        List<String> cart = new ArrayList<>(List.of("apple"));
        ChangeTracker tracker = storedWith("cart", cart);
        cart.add("pear");
        failing.put("cart", true);

        SessionChanges changes = tracker.drain(state(false), encoder);

        assertThat(changes.attributes()).isEmpty();
        assertThat(changes.removedAttributes()).isEmpty();
    }

    @Test
    void setValueThatCannotBeSerializedIsTriedAgainNextSave() {
        ChangeTracker tracker = storedWith("when", "then");
        attributes.put("when", "now");
        tracker.set("when");
        failing.put("when", true);
        assertThat(tracker.drain(state(false), encoder).attributes()).isEmpty();

        failing.put("when", false);
        assertThat(tracker.drain(state(false), encoder).attributes()).containsOnlyKeys("when");
    }

    @Test
    void removedAttributeIsDeletedUnlessSetAgain() {
        ChangeTracker tracker = storedWith("a", "1");
        attributes.remove("a");
        tracker.remove("a");
        assertThat(tracker.drain(state(false), encoder).removedAttributes()).containsExactly("a");

        tracker.remove("b");
        attributes.put("b", "2");
        tracker.set("b");
        SessionChanges changes = tracker.drain(state(false), encoder);
        assertThat(changes.removedAttributes()).isEmpty();
        assertThat(changes.attributes()).containsOnlyKeys("b");
    }

    @Test
    void metadataIsWrittenOnlyWhenThisCopyChangedIt_regressionStaleCopyOverridesMaxInactiveInterval() {
        ChangeTracker tracker = storedWith("a", "1");
        assertThat(tracker.drain(state(false), encoder).maxInactiveInterval()).isEmpty();

        tracker.maxInactiveIntervalChanged();
        assertThat(tracker.drain(state(false), encoder).maxInactiveInterval()).hasValue(1800);
        assertThat(tracker.drain(state(false), encoder).maxInactiveInterval()).isEmpty();
    }

    @Test
    void failedSaveCountsItsChangesAsUnsavedAgain() {
        ChangeTracker tracker = storedWith("a", "1");
        attributes.put("a", "2");
        tracker.set("a");
        tracker.maxInactiveIntervalChanged();
        SessionChanges failed = tracker.drain(state(false), encoder);
        assertThat(tracker.hasRecordedChanges()).isFalse();

        tracker.failed(failed);

        assertThat(tracker.hasRecordedChanges()).isTrue();
        SessionChanges retry = tracker.drain(state(false), encoder);
        assertThat(retry.attributes()).containsOnlyKeys("a");
        assertThat(retry.maxInactiveInterval()).hasValue(1800);
    }

    @Test
    void savedBytesAreWhatLaterSavesCompareWith() {
        List<String> cart = new ArrayList<>(List.of("apple"));
        ChangeTracker tracker = storedWith("cart", cart);
        cart.add("pear");
        tracker.saved(tracker.drain(state(false), encoder));

        assertThat(tracker.drain(state(false), encoder).attributes()).isEmpty();
    }

    @Test
    void theEncoderIsGivenTheBytesRedisHoldsAndAValueAnsweredWithThemIsNotWritten() {
        ChangeTracker tracker = storedWith("cart", new ArrayList<>(List.of("book")));
        byte[] held = tracker.storedBytes("cart");
        List<byte[]> given = new ArrayList<>();

        SessionChanges changes = tracker.drain(state(false), (name, value, stored) -> {
            given.add(stored);
            return stored; // what a compressing codec answers for an unchanged value
        });

        assertThat(given).hasSize(1);
        assertThat(given.get(0)).isSameAs(held);
        assertThat(changes.attributes()).isEmpty();
    }
}
