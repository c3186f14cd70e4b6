package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.cache.ByteRanges.Kind;
import io.tomcatredis.cache.ByteRanges.Selection;
import org.junit.jupiter.api.Test;

/** RFC 9110 14.1.2 and 14.2 for a body of 10 bytes. */
class ByteRangesTest {

    private static Selection select(String range) {
        return ByteRanges.select(range, 10);
    }

    @Test
    void oneSatisfiableRangeIsPartialAndClampedToTheBody() {
        assertThat(select("bytes=0-3")).isEqualTo(new Selection(Kind.PARTIAL, 0, 3));
        assertThat(select("bytes=5-")).isEqualTo(new Selection(Kind.PARTIAL, 5, 9));
        assertThat(select("bytes=8-100")).isEqualTo(new Selection(Kind.PARTIAL, 8, 9));
        assertThat(select("bytes=-3")).isEqualTo(new Selection(Kind.PARTIAL, 7, 9));
        assertThat(select("bytes=-30")).isEqualTo(new Selection(Kind.PARTIAL, 0, 9));
        assertThat(select("BYTES = 2-2")).isEqualTo(new Selection(Kind.PARTIAL, 2, 2));
        assertThat(select("bytes=0-99999999999999999999999")).isEqualTo(new Selection(Kind.PARTIAL, 0, 9));
    }

    @Test
    void rangesBeyondTheBodyAreUnsatisfiable() {
        assertThat(select("bytes=10-")).isEqualTo(Selection.UNSATISFIABLE);
        assertThat(select("bytes=-0")).isEqualTo(Selection.UNSATISFIABLE);
        assertThat(select("bytes=10-20, 30-")).isEqualTo(Selection.UNSATISFIABLE);
        assertThat(ByteRanges.select("bytes=0-", 0)).isEqualTo(Selection.UNSATISFIABLE);
    }

    @Test
    void severalRangesOtherUnitsAndMalformedValuesGetTheWholeBody() {
        assertThat(select(null)).isEqualTo(Selection.FULL);
        assertThat(select("bytes=0-1,4-5")).isEqualTo(Selection.FULL);
        assertThat(select("bytes=0-1,20-")).isEqualTo(Selection.FULL);
        assertThat(select("items=0-1")).isEqualTo(Selection.FULL);
        assertThat(select("bytes=3-1")).isEqualTo(Selection.FULL);
        assertThat(select("bytes=a-b")).isEqualTo(Selection.FULL);
        assertThat(select("bytes=+1-2")).isEqualTo(Selection.FULL);
        assertThat(select("bytes=")).isEqualTo(Selection.FULL);
        assertThat(select("bytes 0-1")).isEqualTo(Selection.FULL);
    }
}
