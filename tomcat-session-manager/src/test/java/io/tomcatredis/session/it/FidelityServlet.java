package io.tomcatredis.session.it;

import io.tomcatredis.session.fidelity.FidelityCorpus;
import io.tomcatredis.session.fidelity.ObservableState;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The webapp side of {@link SerializationFidelityIT}. The corpus classes are in the webapp's
 * WEB-INF/classes only, so they are reached through the request's context class loader (the
 * webapp's), never linked from here.
 * <ul>
 *   <li>{@code /fidelity/store}: stores every corpus value as attribute {@code corpus:<name>};</li>
 *   <li>{@code /fidelity/compare}: compares each attribute with a Java serialization round trip of
 *       the same value built afresh, by state and by behaviour; answers {@code OK <count>} or the
 *       differences, one per line;</li>
 *   <li>{@code /fidelity/lazy-store}, {@code /fidelity/lazy-get}: the account holding a lazy collection;</li>
 *   <li>{@code /fidelity/growing-store}, {@code /fidelity/growing-get}: a list modified while it is written;</li>
 *   <li>{@code /csrf/*}: answers the nonce that Tomcat's CsrfPreventionFilter issued for this request.</li>
 * </ul>
 */
final class FidelityServlet extends HttpServlet {

    /** The request parameter that carries the nonce (Tomcat's Constants.CSRF_NONCE_REQUEST_PARAM). */
    static final String NONCE = "org.apache.catalina.filters.CSRF_NONCE";
    /** Where the filter puts the nonce it issued (Tomcat's Constants.CSRF_NONCE_REQUEST_ATTR_NAME). */
    static final String ISSUED_NONCE = "org.apache.catalina.filters.CSRF_REQUEST_NONCE";

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setContentType("text/plain;charset=UTF-8");
        if (request.getServletPath().equals("/csrf")) {
            response.getWriter().write(String.valueOf(request.getAttribute(ISSUED_NONCE)));
            return;
        }
        ClassLoader webapp = Thread.currentThread().getContextClassLoader();
        HttpSession session = request.getSession();
        String out;
        switch (request.getPathInfo()) {
            case "/store" -> {
                Map<String, Object> values = FidelityCorpus.values(webapp);
                values.forEach((name, value) -> session.setAttribute("corpus:" + name, value));
                out = "stored " + values.size();
            }
            case "/compare" -> {
                List<String> differences = new ArrayList<>();
                Map<String, Object> fresh = FidelityCorpus.values(webapp);
                for (String name : fresh.keySet()) {
                    Object viaStore = session.getAttribute("corpus:" + name);
                    Object viaJava = FidelityCorpus.javaRoundTrip(FidelityCorpus.values(webapp).get(name), webapp);
                    if (viaStore != null && viaStore.getClass().getClassLoader() != null
                            && viaStore.getClass().getClassLoader() != viaJava.getClass().getClassLoader()) {
                        differences.add(name + ": loaded by " + viaStore.getClass().getClassLoader());
                    }
                    ObservableState.differences(viaJava, viaStore).forEach(d -> differences.add(name + ": " + d));
                    if (viaStore != null) {
                        List<String> expected = FidelityCorpus.probe(webapp, name, viaJava);
                        List<String> actual = FidelityCorpus.probe(webapp, name, viaStore);
                        if (!expected.equals(actual)) {
                            differences.add(name + ": behaves as " + actual + ", Java copy as " + expected);
                        }
                    }
                }
                out = differences.isEmpty() ? "OK " + fresh.size() : String.join("\n", differences);
            }
            case "/lazy-store" -> {
                session.setAttribute("account", FidelityCorpus.lazyAccount(webapp));
                out = "stored";
            }
            case "/lazy-get" -> out = String.valueOf(session.getAttribute("account"));
            case "/growing-store" -> {
                session.setAttribute("growing", FidelityCorpus.growingList(webapp));
                out = "stored";
            }
            case "/growing-get" -> out = String.valueOf(session.getAttribute("growing"));
            default -> {
                response.sendError(404);
                return;
            }
        }
        response.getWriter().write(out);
    }
}
