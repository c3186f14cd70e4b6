package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;

import jakarta.servlet.http.HttpServletResponse;
import org.junit.jupiter.api.Test;

/** Regression (issue 14, attack finding 10): tag headers reached the client on the paths that bypass the cache. */
class TagStrippingResponseTest {

    @Test
    void tagHeadersOfAnyCaseAreDroppedAndOthersGoThrough() {
        HttpServletResponse real = mock(HttpServletResponse.class);
        TagStrippingResponse response = new TagStrippingResponse(real, null);

        response.setHeader("surrogate-KEY", "a b");
        response.addHeader("Cache-Tag", "c");
        response.addHeader("XKEY", "d");
        response.setHeader("Cache-Groups", "\"e\"");
        response.addHeader("x-cache-tags", "f");
        response.setHeader("X-Other", "1");
        response.addHeader("X-Other", "2");

        verify(real, never()).setHeader(eq("surrogate-KEY"), anyString());
        verify(real, never()).addHeader(eq("Cache-Tag"), anyString());
        verify(real, never()).addHeader(eq("XKEY"), anyString());
        verify(real, never()).setHeader(eq("Cache-Groups"), anyString());
        verify(real, never()).addHeader(eq("x-cache-tags"), anyString());
        verify(real).setHeader("X-Other", "1");
        verify(real).addHeader("X-Other", "2");
        assertThat(response.getHeader("Surrogate-Key")).as("the application still reads what it wrote").isEqualTo("a b");
    }

    @Test
    void underForwardTagsHeaderTheTagsOfEveryLineAreSentAsOneHeader() {
        HttpServletResponse real = mock(HttpServletResponse.class);
        TagStrippingResponse response = new TagStrippingResponse(real, "Surrogate-Key");

        response.setHeader("Cache-Tag", "a,b");
        response.addHeader("xkey", "c");

        verify(real).setHeader("Surrogate-Key", "a b");
        verify(real).setHeader("Surrogate-Key", "a b c");
        verify(real, never()).setHeader(eq("Cache-Tag"), anyString());
        verify(real, never()).addHeader(eq("xkey"), anyString());
    }
}
