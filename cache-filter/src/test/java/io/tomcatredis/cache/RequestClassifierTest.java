package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletContext;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Phase 1 on its own: what passes before the application runs, and what the rest is keyed on. */
class RequestClassifierTest {

    private static final CacheSettings SETTINGS = CacheSettings.parse(Map.of("include", "/catalog/*, /p/*",
            "exclude", "/p/private/*", "allowedHosts", "shop.example.com", "ignoredCookies", "_ga*, consent")::get,
            "/shop");

    private final Map<String, List<String>> headers = new HashMap<>();
    private final Map<String, List<String>> responseHeaders = new HashMap<>();
    private final HttpServletRequest request = mock(HttpServletRequest.class);
    private final HttpServletResponse response = mock(HttpServletResponse.class);

    private RequestClassifier.Classification classify(String method, String rawUri, String containerPath) {
        ServletContext context = mock(ServletContext.class);
        when(context.getContextPath()).thenReturn("/shop");
        when(request.getServletContext()).thenReturn(context);
        when(request.getMethod()).thenReturn(method);
        if (request.getDispatcherType() == null) {
            when(request.getDispatcherType()).thenReturn(DispatcherType.REQUEST);
        }
        when(request.getScheme()).thenReturn("https");
        if (!headers.containsKey("host")) {
            when(request.getServerName()).thenReturn("shop.example.com");
        }
        when(request.getRequestURI()).thenReturn(rawUri);
        when(request.getContextPath()).thenReturn("/shop");
        when(request.getServletPath()).thenReturn(containerPath);
        when(request.getContentLengthLong()).thenReturn(-1L);
        when(request.getAttributeNames()).thenReturn(Collections.emptyEnumeration());
        when(request.getHeader(anyString())).thenAnswer(i -> first(headers, i.getArgument(0)));
        when(request.getHeaders(anyString())).thenAnswer(i -> Collections.enumeration(
                headers.getOrDefault(((String) i.getArgument(0)).toLowerCase(), List.of())));
        when(response.getHeaders(anyString())).thenAnswer(i -> responseHeaders.getOrDefault(
                ((String) i.getArgument(0)).toLowerCase(), List.of()));
        return new RequestClassifier(SETTINGS).classify(request, response);
    }

    private static String first(Map<String, List<String>> map, String name) {
        List<String> values = map.get(name.toLowerCase());
        return values == null ? null : values.get(0);
    }

    private void header(String name, String value) {
        headers.computeIfAbsent(name.toLowerCase(), n -> new ArrayList<>()).add(value);
    }

    private BypassReason pass(String rawUri, String containerPath) {
        return classify("GET", rawUri, containerPath).pass();
    }

    @Test
    void unsafeMethodsEvictOtherMethodsPass() {
        assertThat(classify("POST", "/shop/catalog/1", "/catalog/1").unsafe()).isTrue();
        assertThat(classify("DELETE", "/shop/catalog/1", "/catalog/1").unsafe()).isTrue();
        assertThat(classify("OPTIONS", "/shop/catalog/1", "/catalog/1").pass()).isEqualTo(BypassReason.METHOD);
        assertThat(classify("HEAD", "/shop/catalog/1", "/catalog/1").request().head()).isTrue();
    }

    @Test
    void dispatchesOtherThanTheRequestItselfPass() {
        when(request.getDispatcherType()).thenReturn(DispatcherType.FORWARD);
        assertThat(pass("/shop/p/data", "/p/data")).isEqualTo(BypassReason.DISPATCH);
    }

    @Test
    void onlyTheCanonicalFormOfThePathTheContainerRoutesOnIsCached() {
        assertThat(pass("/shop/p/x/%2e%2e/private/data", "/p/private/data")).isEqualTo(BypassReason.PATH);
        assertThat(pass("/shop/p/x/%2E%2E/data", "/p/data")).isEqualTo(BypassReason.PATH);
        assertThat(pass("/shop/p//data", "/p/data")).isEqualTo(BypassReason.PATH);
        assertThat(pass("/shop/p/./data", "/p/data")).isEqualTo(BypassReason.PATH);
        assertThat(pass("/shop/%70/data", "/p/data")).isEqualTo(BypassReason.PATH);
        assertThat(pass("/shop/p;x=1/data", "/p/data")).isEqualTo(BypassReason.PATH);
        assertThat(pass("/shop/catalog/caf%c3%a9", "/catalog/caf\u00e9")).isEqualTo(BypassReason.PATH);
        assertThat(pass("/shop/catalog/index.jsp", "/catalog/")).as("a welcome file").isEqualTo(BypassReason.PATH);
        assertThat(pass("/SHOP/catalog/1", "/catalog/1")).isEqualTo(BypassReason.PATH);

        CacheRequest cafe = classify("GET", "/shop/catalog/caf%C3%A9", "/catalog/caf\u00e9").request();
        assertThat(cafe.url()).isEqualTo("https://shop.example.com/shop/catalog/caf%C3%A9");
    }

    @Test
    void rulesMatchTheContainersPath() {
        assertThat(pass("/shop/p/private/data", "/p/private/data")).isEqualTo(BypassReason.NOT_INCLUDED);
        assertThat(pass("/shop/elsewhere", "/elsewhere")).isEqualTo(BypassReason.NOT_INCLUDED);
        assertThat(pass("/shop/p/data", "/p/data")).isNull();
    }

    @Test
    void otherHostsAndHostsNotInLowerCasePass() {
        header("host", "x");
        when(request.getServerName()).thenReturn("Shop.Example.com");
        assertThat(pass("/shop/p/data", "/p/data")).isEqualTo(BypassReason.HOST);
        when(request.getServerName()).thenReturn("evil.example");
        assertThat(pass("/shop/p/data", "/p/data")).isEqualTo(BypassReason.HOST);
    }

    @Test
    void sessionIdsInAnyFormAndAuthenticatedUsersPass() {
        when(request.isRequestedSessionIdFromURL()).thenReturn(true);
        assertThat(pass("/shop/p/data;jsessionid=S", "/p/data")).isEqualTo(BypassReason.SESSION_ID);
        when(request.isRequestedSessionIdFromURL()).thenReturn(false);
        when(request.getRequestedSessionId()).thenReturn("S");
        assertThat(pass("/shop/p/data", "/p/data")).isEqualTo(BypassReason.SESSION_ID);
        when(request.getRequestedSessionId()).thenReturn(null);
        when(request.getAuthType()).thenReturn("BASIC");
        assertThat(pass("/shop/p/data", "/p/data")).isEqualTo(BypassReason.AUTHENTICATED);
    }

    @Test
    void requestsAskingForAFreshCopyOrCarryingABodyPass() {
        header("Pragma", "no-cache");
        assertThat(pass("/shop/p/data", "/p/data")).isEqualTo(BypassReason.REQUEST_NO_CACHE);
        headers.clear();
        header("Content-Type", "application/x-www-form-urlencoded");
        assertThat(pass("/shop/p/data", "/p/data")).isEqualTo(BypassReason.REQUEST_BODY);
    }

    @Test
    void rangesAndPreconditionsAreAnsweredByTheCacheNotPassed() {
        for (String name : new String[] {"Range", "If-Range", "If-Match", "If-Unmodified-Since", "If-None-Match",
                "If-Modified-Since"}) {
            headers.clear();
            header(name, name.equals("Range") ? "bytes=0-3" : "\"x\"");
            assertThat(pass("/shop/p/data", "/p/data")).as(name).isNull();
        }
    }

    @Test
    void attributesSetAheadAreRememberedButNotTheContainersOwn() {
        classify("GET", "/shop/p/data", "/p/data");
        when(request.getAttributeNames()).thenReturn(Collections.enumeration(List.of("user",
                "org.apache.tomcat.sendfile.support", "org.apache.catalina.core.DISPATCHER_TYPE")));
        assertThat(new RequestClassifier(SETTINGS).classify(request, response).request().aheadAttributes())
                .containsExactly("user");
    }

    @Test
    void whatIsOnTheResponseAheadOfTheFilterCountsAsTheApplications() {
        responseHeaders.put("set-cookie", List.of("visitor=1"));
        assertThat(pass("/shop/p/data", "/p/data")).isEqualTo(BypassReason.SET_COOKIE);
        responseHeaders.clear();
        responseHeaders.put("cache-control", List.of("max-age=60", "private"));
        assertThat(pass("/shop/p/data", "/p/data")).isEqualTo(BypassReason.CACHE_CONTROL);
        responseHeaders.clear();
        responseHeaders.put("vary", List.of("Accept-Language, *"));
        assertThat(pass("/shop/p/data", "/p/data")).isEqualTo(BypassReason.VARY_STAR);
        responseHeaders.clear();
        responseHeaders.put("vary", List.of("Accept-Language"));
        header("Accept-Language", "de");
        CacheRequest keyed = classify("GET", "/shop/p/data", "/p/data").request();
        assertThat(keyed.aheadVary()).isEqualTo("accept-language");
        assertThat(keyed.baseKey())
                .isEqualTo("https://shop.example.com/shop/p/data\nlanguages=de\nvary\naccept-language=de");
    }

    @Test
    void theLanguagesARequestAsksForArePartOfItsKeyWhateverTheResponseSays() {
        CacheRequest plain = classify("GET", "/shop/p/data", "/p/data").request();
        assertThat(plain.baseKey()).as("no Accept-Language: the URL alone").isEqualTo(plain.url())
                .isEqualTo("https://shop.example.com/shop/p/data");

        // A filter ahead may resolve the locale from them into a ThreadLocal, or set it on the response.
        header("Accept-Language", " de-DE,de;q=0.9 ");
        CacheRequest german = classify("GET", "/shop/p/data", "/p/data").request();
        assertThat(german.url()).isEqualTo("https://shop.example.com/shop/p/data");
        assertThat(german.baseKey()).isEqualTo("https://shop.example.com/shop/p/data\nlanguages=de-DE,de;q=0.9");

        headers.clear();
        header("Accept-Language", "fr");
        assertThat(classify("GET", "/shop/p/data", "/p/data").request().baseKey()).isNotEqualTo(german.baseKey());

        headers.clear();
        header("Accept-Language", "");
        assertThat(classify("GET", "/shop/p/data", "/p/data").request().baseKey())
                .as("present but empty is not absent").isNotEqualTo(plain.baseKey());
    }

    @Test
    void cookiesOutsideIgnoredCookiesAndCredentialsMakeARequestCredentialed() {
        assertThat(classify("GET", "/shop/p/data", "/p/data").request().credentialed()).isFalse();
        header("Cookie", "_ga=GA1.2; consent=yes");
        header("Cookie", "_gat=1");
        assertThat(classify("GET", "/shop/p/data", "/p/data").request().credentialed()).isFalse();
        header("Cookie", "theme=dark");
        assertThat(classify("GET", "/shop/p/data", "/p/data").request().credentialed()).isTrue();
        headers.clear();
        header("Cookie", "malformed");
        assertThat(classify("GET", "/shop/p/data", "/p/data").request().credentialed()).isTrue();
        headers.clear();
        header("Authorization", "Bearer x");
        assertThat(classify("GET", "/shop/p/data", "/p/data").request().credentialed()).isTrue();
    }
}
