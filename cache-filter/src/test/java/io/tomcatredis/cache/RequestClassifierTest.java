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
        when(request.getHeaderNames()).thenAnswer(i -> Collections.enumeration(List.copyOf(headers.keySet())));
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
                "org.apache.tomcat.sendfile.support", "org.apache.catalina.core.DISPATCHER_TYPE",
                "jakarta.servlet.request.cipher_suite")));
        assertThat(new RequestClassifier(SETTINGS).classify(request, response).request().aheadAttributes())
                .containsExactly("user");
    }

    @Test
    void theNamesOfAttributesSetAheadArePartOfTheKey() {
        CacheRequest plain = classify("GET", "/shop/p/data", "/p/data").request();
        // A filter ahead marks staff by their address: a page rendered without the mark found null.
        when(request.getAttributeNames()).thenReturn(Collections.enumeration(List.of("staff", "a,b\nc")));
        CacheRequest staff = new RequestClassifier(SETTINGS).classify(request, response).request();
        assertThat(staff.baseKey()).isNotEqualTo(plain.baseKey())
                .isEqualTo("https://shop.example.com/shop/p/data\nattributes=a%2Cb%0Ac,staff");
        assertThat(staff.credentialed()).isFalse();
    }

    @Test
    void aLocaleAFilterAheadSetOnTheResponseIsPartOfTheKey() {
        CacheRequest plain = classify("GET", "/shop/p/data", "/p/data").request();
        when(response.getLocale()).thenReturn(java.util.Locale.getDefault());
        assertThat(classify("GET", "/shop/p/data", "/p/data").request().baseKey()).as("the container's default")
                .isEqualTo(plain.baseKey());
        java.util.Locale other = java.util.Locale.getDefault().equals(java.util.Locale.GERMANY)
                ? java.util.Locale.FRANCE : java.util.Locale.GERMANY;
        when(response.getLocale()).thenReturn(other);
        assertThat(classify("GET", "/shop/p/data", "/p/data").request().baseKey())
                .isEqualTo(plain.baseKey() + "\nlocale=" + other.toLanguageTag());
    }

    @Test
    void aContentLanguageOrContentTypeAFilterAheadSetIsPartOfTheKey() {
        CacheRequest plain = classify("GET", "/shop/p/data", "/p/data").request();
        responseHeaders.put("content-language", List.of("de-CH\r\nX: y"));
        when(response.getContentType()).thenReturn("application/json;charset=UTF-8");
        assertThat(classify("GET", "/shop/p/data", "/p/data").request().baseKey()).isEqualTo(plain.baseKey()
                + "\ncontent-language=de-CH%0D%0AX%3A+y\ncontent-type=application%2Fjson%3Bcharset%3DUTF-8");
    }

    /** Header sets of real clients (captured from browsers' developer tools, curl -v, and CDNs' docs). */
    @Test
    void whatBrowsersCurlAndCdnsSendOnAnAnonymousRequestIsNotCredentials() {
        String[][] clients = {
            {"Host", "shop.example.com", "Connection", "keep-alive", "sec-ch-ua",
                "\"Chromium\";v=\"130\", \"Google Chrome\";v=\"130\", \"Not?A_Brand\";v=\"99\"",
                "sec-ch-ua-mobile", "?0", "sec-ch-ua-platform", "\"Windows\"", "Upgrade-Insecure-Requests", "1",
                "User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0.0.0 Safari/537.36",
                "Accept", "text/html,application/xhtml+xml,*/*;q=0.8", "Sec-Fetch-Site", "none",
                "Sec-Fetch-Mode", "navigate", "Sec-Fetch-User", "?1", "Sec-Fetch-Dest", "document",
                "Accept-Encoding", "gzip, deflate, br, zstd", "Accept-Language", "en-US,en;q=0.9",
                "Priority", "u=0, i", "Cookie", "_ga=GA1.1.123.456; consent=yes", "If-None-Match", "\"x\"",
                "Cache-Control", "max-age=0", "Referer", "https://www.google.com/", "Sec-GPC", "1", "DNT", "1",
                "Sec-Purpose", "prefetch;prerender", "Save-Data", "on", "Viewport-Width", "1280"},
            {"Host", "shop.example.com", "User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Firefox/132.0",
                "Accept", "text/html", "Accept-Language", "de,en-US;q=0.7", "Accept-Encoding", "gzip, deflate, br",
                "Connection", "keep-alive", "Upgrade-Insecure-Requests", "1", "Sec-Fetch-Dest", "document",
                "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Site", "same-origin", "If-Modified-Since",
                "Sun, 01 Nov 2026 00:00:00 GMT", "Pragma", "no-cache", "TE", "trailers", "Alt-Used", "shop.example.com"},
            {"Host", "shop.example.com", "Origin", "https://shop.example.com", "X-Requested-With", "XMLHttpRequest",
                "Accept", "application/json", "User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) Safari/604.1"},
            {"Host", "shop.example.com", "User-Agent", "curl/8.5.0", "Accept", "*/*"},
            {"Host", "shop.example.com", "User-Agent", "Java-http-client/17", "Connection", "Upgrade, HTTP2-Settings",
                "Upgrade", "h2c", "HTTP2-Settings", "AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA"},
            {"Host", "shop.example.com", "CF-Connecting-IP", "203.0.113.7", "CF-Ray", "8d1-FRA", "CF-Visitor",
                "{\"scheme\":\"https\"}", "CDN-Loop", "cloudflare", "X-Forwarded-For", "203.0.113.7, 10.0.0.1",
                "X-Forwarded-Proto", "https", "X-Forwarded-Host", "shop.example.com", "X-Forwarded-Port", "443",
                "X-Real-IP", "203.0.113.7", "Forwarded", "for=203.0.113.7;proto=https", "Via", "1.1 varnish",
                "X-Request-Id", "r-1", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "tracestate", "congo=t61rcWkgMzE", "X-Amzn-Trace-Id", "Root=1-67891233-abcdef012345678912345678",
                "X-B3-TraceId", "80f198ee56343ba864fe8b2a57d3eff7", "True-Client-IP", "203.0.113.7"}};
        for (String[] client : clients) {
            headers.clear();
            for (int i = 0; i < client.length; i += 2) {
                if (!client[i].equalsIgnoreCase("Pragma") && !client[i].equalsIgnoreCase("Host")) {
                    header(client[i], client[i + 1]);
                }
            }
            RequestClassifier.Classification classification = classify("GET", "/shop/p/data", "/p/data");
            assertThat(classification.pass()).as(client[client.length - 1]).isNull();
            assertThat(classification.request().credentialed()).as(String.join(", ", client)).isFalse();
        }
    }

    /** Azure App Service, oauth2-proxy, Kong, Envoy/Istio, nginx with client certificates, and any unknown header. */
    @Test
    void aHeaderOutsideTheNeutralOnesMakesARequestCredentialedUnlessConfiguredAsIgnored() {
        for (String name : List.of("X-MS-CLIENT-PRINCIPAL-NAME", "X-MS-CLIENT-PRINCIPAL", "X-Forwarded-Email",
                "X-Forwarded-Preferred-Username", "X-Consumer-Username", "X-Userinfo", "X-Forwarded-Client-Cert",
                "X-SSL-Client-S-DN", "ssl_client_cert", "X-Goog-Authenticated-User-Email", "Remote-User", "X-Whoever",
                "CF-IPCountry", "Cookie2", "Sec-WebSocket-Protocol")) {
            headers.clear();
            header(name, "alice");
            assertThat(classify("GET", "/shop/p/data", "/p/data").request().credentialed()).as(name).isTrue();
        }
        CacheSettings extended = CacheSettings.parse(Map.of("include", "/p/*", "allowedHosts", "shop.example.com",
                "ignoredHeaders", "CF-IPCountry, X-Edge-*")::get, "/shop");
        headers.clear();
        header("CF-IPCountry", "DE");
        header("x-edge-location", "FRA");
        classify("GET", "/shop/p/data", "/p/data");
        assertThat(new RequestClassifier(extended).classify(request, response).request().credentialed()).isFalse();
        header("X-Forwarded-Email", "alice@example.com");
        assertThat(new RequestClassifier(extended).classify(request, response).request().credentialed()).isTrue();
    }

    @Test
    void aClientCertificateMakesARequestCredentialed() {
        assertThat(classify("GET", "/shop/p/data", "/p/data").request().credentialed()).isFalse();
        when(request.getAttribute("jakarta.servlet.request.X509Certificate"))
                .thenReturn(new java.security.cert.X509Certificate[0]);
        assertThat(classify("GET", "/shop/p/data", "/p/data").request().credentialed()).isTrue();
    }

    @Test
    void credentialsAWrapperAheadHidesAreFoundOnTheContainersRequest() {
        header("Authorization", "Bearer alice");
        header("Cookie", "SESSION=alice");
        classify("GET", "/shop/p/data", "/p/data");
        HttpServletRequest hiding = new jakarta.servlet.http.HttpServletRequestWrapper(request) {
            @Override
            public String getHeader(String name) {
                return null;
            }

            @Override
            public java.util.Enumeration<String> getHeaders(String name) {
                return Collections.emptyEnumeration();
            }

            @Override
            public java.util.Enumeration<String> getHeaderNames() {
                return Collections.emptyEnumeration();
            }

            @Override
            public String getRemoteUser() {
                return null;
            }
        };
        assertThat(new RequestClassifier(SETTINGS).classify(hiding, response).request().credentialed()).isTrue();
        headers.clear();
        assertThat(new RequestClassifier(SETTINGS).classify(hiding, response).request().credentialed()).isFalse();
        when(request.getRemoteUser()).thenReturn("alice");
        assertThat(new RequestClassifier(SETTINGS).classify(hiding, response).request().credentialed())
                .as("a user below the wrapper").isTrue();
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
