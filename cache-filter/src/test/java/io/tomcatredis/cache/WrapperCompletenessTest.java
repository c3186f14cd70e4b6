package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The wrappers against the Servlet API on the class path: every method of the request and
 * response interfaces is observed or captured (declared by the wrapper itself, not inherited from
 * the pass-through Servlet wrapper), or listed as harmless with a reason. A method a new Servlet
 * version adds fails this test until someone decides which it is.
 */
class WrapperCompletenessTest {

    @Test
    void everyRequestMethodIsObservedOrListedAsHarmless() {
        // ObservedServlet6Request: ObservedRequest with getServletConnection (what the filter creates on Servlet 6)
        assertComplete(ObservedServlet6Request.class, ObservedRequest.HARMLESS, ServletRequest.class,
                HttpServletRequest.class);
    }

    @Test
    void everyResponseMethodIsCapturedOrListedAsHarmless() {
        assertComplete(CapturingResponse.class, CapturingResponse.HARMLESS, ServletResponse.class,
                HttpServletResponse.class);
    }

    @Test
    void theServletApiOnTheClassPathHasTheMethodsServlet61Added() {
        // Guards the test itself: were an older API on the class path, the checks above would be weaker.
        assertThat(signatures(HttpServletResponse.class)).contains("sendRedirect(String,int,boolean)");
        assertThat(signatures(ServletRequest.class)).contains("setCharacterEncoding(Charset)");
    }

    private static void assertComplete(Class<?> wrapper, Map<String, String> harmless, Class<?>... apis) {
        Set<String> api = new TreeSet<>();
        for (Class<?> type : apis) {
            api.addAll(signatures(type));
        }
        Set<String> declared = new java.util.HashSet<>();
        // declared by the wrapper or by one of our classes it extends, not by the Servlet wrapper
        for (Class<?> type = wrapper; type.getName().startsWith("io.tomcatredis."); type = type.getSuperclass()) {
            Arrays.stream(type.getDeclaredMethods()).filter(m -> !m.isSynthetic() && !Modifier.isStatic(m.getModifiers()))
                    .map(WrapperCompletenessTest::signature).forEach(declared::add);
        }
        List<String> open = new ArrayList<>();
        for (String method : api) {
            if (!declared.contains(method) && !harmless.containsKey(method)) {
                open.add(method);
            }
        }
        assertThat(open).as("methods of the Servlet API that %s neither handles nor lists as harmless",
                wrapper.getSimpleName()).isEmpty();
        for (Map.Entry<String, String> entry : harmless.entrySet()) {
            assertThat(api).as("harmless list names a method of the API").contains(entry.getKey());
            assertThat(declared).as("a harmless method is not also handled").doesNotContain(entry.getKey());
            assertThat(entry.getValue()).as("reason for " + entry.getKey()).isNotBlank();
        }
    }

    private static Set<String> signatures(Class<?> type) {
        return Arrays.stream(type.getMethods()).filter(m -> !Modifier.isStatic(m.getModifiers()))
                .map(WrapperCompletenessTest::signature).collect(Collectors.toCollection(TreeSet::new));
    }

    private static String signature(Method method) {
        return method.getName() + Arrays.stream(method.getParameterTypes()).map(Class::getSimpleName)
                .collect(Collectors.joining(",", "(", ")"));
    }
}
