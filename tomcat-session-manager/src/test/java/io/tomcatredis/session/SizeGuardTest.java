package io.tomcatredis.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.store.SessionChanges;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The size limits of a save ({@link SizeGuard}) and how the change log applies them
 * ({@link ChangeTracker#enforce}): what is over is removed, never left at its previous value.
 */
class SizeGuardTest {

    private static byte[] bytes(int length) {
        return new byte[length];
    }

    private static List<String> names(List<SizeGuard.Excess> excess) {
        return excess.stream().map(SizeGuard.Excess::name).toList();
    }

    @Test
    void anAttributeOverMaxAttributeBytesIsOverOneAtTheLimitIsNot() {
        SizeGuard guard = new SizeGuard(100, 0, false);
        SessionChanges changes = SessionChanges.update().setAttribute("at", bytes(100)).setAttribute("over", bytes(101));

        List<SizeGuard.Excess> excess = guard.excess(changes, Map.of());

        assertThat(excess).containsExactly(new SizeGuard.Excess("over", 101, "maxAttributeBytes", 100));
        assertThat(SizeGuard.OFF.excess(changes, Map.of())).isEmpty();
    }

    @Test
    void overMaxSessionBytesTheLargestChangedAttributesGoFirstUntilTheSessionFits() {
        // stored: "kept" 5 + 300 = 305 bytes (attr:kept), unchanged; "old" is rewritten below
        Map<String, byte[]> stored = Map.of("kept", bytes(300), "old", bytes(400));
        SessionChanges changes = SessionChanges.update().setAttribute("old", bytes(50)).setAttribute("a", bytes(200))
                .setAttribute("b", bytes(150)).setAttribute("c", bytes(10));
        // after the save: kept 309 + old 58 + a 206 + b 206... (field names count: "attr:" + name)
        long total = (9 + 300) + (8 + 50) + (6 + 200) + (6 + 150) + (6 + 10);
        SizeGuard guard = new SizeGuard(0, (int) total - 1, false);

        assertThat(names(guard.excess(changes, stored))).as("the largest change alone makes it fit").containsExactly("a");
        assertThat(names(new SizeGuard(0, (int) total - 206 - 1, false).excess(changes, stored)))
                .containsExactly("a", "b");
        assertThat(new SizeGuard(0, (int) total, false).excess(changes, stored)).as("exactly at the limit").isEmpty();
        assertThat(names(new SizeGuard(0, 100, false).excess(changes, stored)))
                .as("every change goes, what the request did not change stays").containsExactly("a", "b", "old", "c");
    }

    @Test
    void removalsAndRemovedValuesDoNotCount() {
        Map<String, byte[]> stored = Map.of("gone", bytes(1000), "small", bytes(10));
        SessionChanges changes = SessionChanges.update().removeAttribute("gone").setAttribute("new", bytes(500));

        assertThat(new SizeGuard(0, 600, false).excess(changes, stored)).isEmpty();
    }

    @Test
    void inWarnModeTheTrackerRemovesWhatIsOverInFailModeItLeavesTheSaveAlone() {
        ChangeTracker tracker = new ChangeTracker();
        tracker.loaded(Map.of("big", bytes(10)), Set.of());
        SessionChanges changes = SessionChanges.update().setAttribute("big", bytes(2000)).setAttribute("ok", bytes(5));

        List<SizeGuard.Excess> excess = tracker.enforce(changes, new SizeGuard(1000, 0, true));
        assertThat(names(excess)).containsExactly("big");
        assertThat(changes.attributes()).containsKeys("big", "ok");

        excess = tracker.enforce(changes, new SizeGuard(1000, 0, false));
        assertThat(names(excess)).containsExactly("big");
        assertThat(changes.attributes()).containsOnlyKeys("ok");
        assertThat(changes.removedAttributes()).as("its previous value is removed, not left as current")
                .containsExactly("big");
        assertThat(tracker.hasUnsavedValues()).as("this copy holds a value Redis does not").isTrue();
        tracker.saved(changes);
        assertThat(tracker.isStored("big")).isFalse();
    }
}
