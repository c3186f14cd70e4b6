package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

import jakarta.servlet.http.HttpServletRequest;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Issue 17 attack (Tomcat 9 JAR): the Servlet 6 method moved out of ObservedRequest, so the Tomcat 9
 * JAR's ObservedRequest names no type Servlet 4.0 lacks, is still observed where the API has it.
 */
class ObservedServlet6RequestTest {

    private static final CacheSettings SETTINGS = CacheSettings.parse(Map.of("include", "/*", "allowedHosts", "h")::get, "");
    private static final CacheRequest REQUEST = new CacheRequest(false, "http://h/p", "http://h/p", "", 60, false,
            Set.of());

    @Test
    void onServlet6TheFilterObservesTheServletConnection() {
        ObservedRequest observed = ObservedRequest.of(mock(HttpServletRequest.class), REQUEST, SETTINGS);
        assertThat(observed).isInstanceOf(ObservedServlet6Request.class);
        observed.getServletConnection();
        assertThat(observed.observation().reads()).containsExactly(BypassReason.CONNECTION);
    }

    @Test
    void theBaseWrapperNamesNoServletConnection() {
        assertThat(ObservedRequest.class.getDeclaredMethods()).noneMatch(m -> m.getName().equals("getServletConnection"));
    }
}
