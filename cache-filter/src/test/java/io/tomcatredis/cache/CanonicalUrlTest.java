package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import jakarta.servlet.http.HttpServletRequest;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class CanonicalUrlTest {

    @Test
    void theCanonicalEncodingLeavesOnlyUnreservedSegmentCharactersAsTheyAre() {
        assertThat(CanonicalUrl.encodePath("/catalog/café")).isEqualTo("/catalog/caf%C3%A9");
        assertThat(CanonicalUrl.encodePath("/a b/c;d/e%f")).isEqualTo("/a%20b/c%3Bd/e%25f");
        assertThat(CanonicalUrl.encodePath("/a-b_c.d~e/!$&'()*+,=:@")).isEqualTo("/a-b_c.d~e/!$&'()*+,=:@");
    }

    @Test
    void keyHoldsSchemeLowerCaseHostDecodedPathAndRawQuery() {
        assertThat(CanonicalUrl.of("HTTPS", "Shop.Example.com", "/shop/caf\u00e9", "q=%20"))
                .isEqualTo("https://shop.example.com/shop/caf%C3%A9?q=%20");
        assertThat(CanonicalUrl.of("http", "h", "/p?id=7", null)).as("a path cannot forge a query")
                .isNotEqualTo(CanonicalUrl.of("http", "h", "/p", "id=7"));
        assertThat(CanonicalUrl.of("http", "h", "/p", null)).isEqualTo("http://h/p");
    }

    @Test
    void twoHeaderLinesAreAnotherVariantThanOneCommaSeparatedLine() {
        HttpServletRequest twoLines = mock(HttpServletRequest.class);
        when(twoLines.getHeaders("accept-language")).thenReturn(Collections.enumeration(List.of("de", "fr")));
        HttpServletRequest oneLine = mock(HttpServletRequest.class);
        when(oneLine.getHeaders("accept-language")).thenReturn(Collections.enumeration(List.of("de,fr")));

        assertThat(CanonicalUrl.variant("http://h/p", "accept-language", twoLines))
                .isNotEqualTo(CanonicalUrl.variant("http://h/p", "accept-language", oneLine));
    }

    @Test
    void variantKeyHoldsEveryValueOfEveryVaryHeader() {
        HttpServletRequest request = mock(HttpServletRequest.class);
        when(request.getHeaders("accept-language")).thenReturn(Collections.enumeration(List.of("de", " fr ")));
        when(request.getHeaders("x-theme")).thenReturn(Collections.emptyEnumeration());

        assertThat(CanonicalUrl.variant("http://h/p", "accept-language,x-theme", request))
                .isEqualTo("http://h/p\nvary\naccept-language=de\n+fr\nx-theme=");
    }

    @Test
    void theLanguagesOfARequestFollowItsUrlLinesKeptApart() {
        HttpServletRequest none = mock(HttpServletRequest.class);
        when(none.getHeaders("accept-language")).thenReturn(Collections.emptyEnumeration());
        assertThat(CanonicalUrl.withLanguages("http://h/p?q=1", none)).isEqualTo("http://h/p?q=1");

        HttpServletRequest twoLines = mock(HttpServletRequest.class);
        when(twoLines.getHeaders("accept-language")).thenReturn(Collections.enumeration(List.of("de ", "fr")));
        HttpServletRequest oneLine = mock(HttpServletRequest.class);
        when(oneLine.getHeaders("accept-language")).thenReturn(Collections.enumeration(List.of("de,fr")));
        assertThat(CanonicalUrl.withLanguages("http://h/p", twoLines)).isEqualTo("http://h/p\nlanguages=de\n+fr");
        assertThat(CanonicalUrl.withLanguages("http://h/p", oneLine)).isEqualTo("http://h/p\nlanguages=de,fr");
    }

    @Test
    void urlsGivenForEvictionAreNormalized() {
        assertThat(CanonicalUrl.normalizePath("/a//b/../c/./d;jsessionid=X")).isEqualTo("/a/c/d");
        assertThat(CanonicalUrl.normalizePath("/a/b/")).isEqualTo("/a/b/");
        assertThat(CanonicalUrl.normalizePath("/../../etc")).isEqualTo("/etc");
    }
}
