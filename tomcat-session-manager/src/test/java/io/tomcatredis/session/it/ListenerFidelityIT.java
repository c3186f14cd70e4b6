package io.tomcatredis.session.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tomcatredis.session.RedisSessionManager;
import io.tomcatredis.testsupport.Await;
import io.tomcatredis.testsupport.RedisExtension;
import io.tomcatredis.testsupport.StandaloneRedis;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import jakarta.servlet.http.HttpSessionActivationListener;
import jakarta.servlet.http.HttpSessionAttributeListener;
import jakarta.servlet.http.HttpSessionBindingEvent;
import jakarta.servlet.http.HttpSessionBindingListener;
import jakarta.servlet.http.HttpSessionEvent;
import jakarta.servlet.http.HttpSessionIdListener;
import jakarta.servlet.http.HttpSessionListener;
import java.io.IOException;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.apache.catalina.Context;
import org.apache.catalina.session.StandardManager;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The same scripted scenario against Tomcat's StandardManager (one node) and RedisSessionManager
 * (two nodes, requests alternating): listeners of every kind must see the same events, in the
 * same order, with the same values. Documented difference: activation events, which
 * RedisSessionManager fires around every request (the data leaves the node and comes back),
 * StandardManager only at shutdown and start; they are recorded apart and checked for pairing.
 */
@Tag("tomcat")
class ListenerFidelityIT {

    @RegisterExtension
    static final RedisExtension<StandaloneRedis> REDIS = RedisExtension.standalone();

    static final List<String> EVENTS = new CopyOnWriteArrayList<>();
    static final List<String> ACTIVATIONS = new CopyOnWriteArrayList<>();
    static final List<String> EARLY_EXPIRIES = new CopyOnWriteArrayList<>();

    @BeforeEach
    void clear() {
        EVENTS.clear();
        ACTIVATIONS.clear();
        EARLY_EXPIRIES.clear();
        REDIS.get().flushAll();
    }

    @Test
    void redisManagerFiresExactlyTheEventsOfStandardManager() {
        List<String> standard;
        try (TomcatNode only = TomcatNode.startWith("standard", ListenerFidelityIT::fastStandardManager,
                ListenerFidelityIT::instrument)) {
            runScenario(step -> only);
            standard = List.copyOf(EVENTS);
        }
        clear();
        List<String> redis;
        try (TomcatNode one = redisNode("r1"); TomcatNode two = redisNode("r2")) {
            runScenario(step -> step % 2 == 0 ? one : two);
            redis = List.copyOf(EVENTS);
        }

        assertThat(standard).contains("created", "destroyed {b=x, t=Tracked[label=t2]}", "idChanged",
                "replaced a old=1 now=2", "unbound t2 by Tracked[label=t2]", "destroyed {c=y, t=Tracked[label=t3]}",
                "read isNew=false cart-size=2 t=Tracked[label=t2]", "short isNew=true");
        assertThat(redis).containsExactlyElementsOf(standard);
        assertThat(EARLY_EXPIRIES).isEmpty();
        assertThat(ACTIVATIONS).isNotEmpty();
        for (int i = 0; i + 1 < ACTIVATIONS.size(); i++) {
            assertThat(ACTIVATIONS.get(i)).as("activation events alternate").isNotEqualTo(ACTIVATIONS.get(i + 1));
        }
    }

    private static void runScenario(Function<Integer, TomcatNode> nodeForStep) {
        HttpSessionClient browser = new HttpSessionClient();
        String[] steps = {"start", "replace", "remove", "cart", "cart", "read", "change-id", "end"};
        for (int i = 0; i < steps.length; i++) {
            browser.ok(nodeForStep.apply(i).url("scenario/" + steps[i]).replace("/s/", "/x/"));
        }
        HttpSessionClient idle = new HttpSessionClient();
        idle.ok(nodeForStep.apply(0).url("scenario/short").replace("/s/", "/x/"));
        Await.until(Duration.ofSeconds(30), "the idle session to time out",
                () -> EVENTS.stream().anyMatch(e -> e.startsWith("destroyed {c=y")));
        Await.until(Duration.ofSeconds(30), "the unbinding that follows the timeout",
                () -> EVENTS.contains("removed t=Tracked[label=t3]"));
    }

    private static TomcatNode redisNode(String name) {
        return TomcatNode.start(name, m -> {
            m.setRedisUri(REDIS.get().uri());
            m.setProcessExpiresFrequency(1);
        }, ListenerFidelityIT::instrument);
    }

    private static StandardManager fastStandardManager() {
        StandardManager manager = new StandardManager();
        manager.setProcessExpiresFrequency(1);
        manager.setPathname(null);
        return manager;
    }

    static void instrument(Context context) {
        context.setBackgroundProcessorDelay(1);
        context.addServletContainerInitializer((classes, servletContext) ->
                servletContext.addListener(new RecordingListener()), null);
        Tomcat.addServlet(context, "scenario", new ScenarioServlet());
        context.addServletMappingDecoded("/x/*", "scenario");
    }

    /** Each step of the scenario, one request each. */
    static final class ScenarioServlet extends HttpServlet {
        @Override
        @SuppressWarnings("unchecked")
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
            String step = request.getPathInfo().substring("/scenario/".length());
            HttpSession session = request.getSession();
            switch (step) {
                case "start" -> {
                    session.setAttribute("a", "1");
                    session.setAttribute("t", new Tracked("t1"));
                }
                case "replace" -> {
                    session.setAttribute("a", "2");
                    session.setAttribute("t", new Tracked("t2"));
                    session.setAttribute("a", "2");
                }
                case "remove" -> session.removeAttribute("a");
                case "cart" -> {
                    List<String> cart = (List<String>) session.getAttribute("cart");
                    if (cart == null) {
                        session.setAttribute("cart", new ArrayList<>(List.of("first")));
                    } else {
                        cart.add("more");
                        session.removeAttribute("cart");
                        session.setAttribute("cart-size", cart.size());
                    }
                }
                case "read" -> EVENTS.add("read isNew=" + session.isNew() + " cart-size="
                        + session.getAttribute("cart-size") + " t=" + session.getAttribute("t"));
                case "change-id" -> request.changeSessionId();
                case "end" -> {
                    session.setAttribute("b", "x");
                    session.removeAttribute("cart-size");
                    session.invalidate();
                }
                case "short" -> {
                    EVENTS.add("short isNew=" + session.isNew());
                    session.setAttribute("c", "y");
                    session.setAttribute("t", new Tracked("t3"));
                    session.setMaxInactiveInterval(1);
                }
                default -> throw new IllegalArgumentException(step);
            }
            response.getWriter().write("ok");
        }
    }

    /** Records every session event with the values it carries. */
    static final class RecordingListener implements HttpSessionListener, HttpSessionAttributeListener,
            HttpSessionIdListener {
        @Override
        public void sessionCreated(HttpSessionEvent se) {
            EVENTS.add("created");
        }

        @Override
        public void sessionDestroyed(HttpSessionEvent se) {
            HttpSession session = se.getSession();
            long deadline = session.getLastAccessedTime() + session.getMaxInactiveInterval() * 1000L;
            if (session.getMaxInactiveInterval() > 0 && System.currentTimeMillis() < deadline
                    && session.getAttribute("c") != null) {
                EARLY_EXPIRIES.add("expired " + (deadline - System.currentTimeMillis()) + " ms early");
            }
            TreeMap<String, Object> attributes = new TreeMap<>();
            for (String name : Collections.list(session.getAttributeNames())) {
                attributes.put(name, session.getAttribute(name));
            }
            EVENTS.add("destroyed " + attributes);
        }

        @Override
        public void attributeAdded(HttpSessionBindingEvent event) {
            EVENTS.add("added " + event.getName() + "=" + event.getValue());
        }

        @Override
        public void attributeReplaced(HttpSessionBindingEvent event) {
            EVENTS.add("replaced " + event.getName() + " old=" + event.getValue() + " now="
                    + event.getSession().getAttribute(event.getName()));
        }

        @Override
        public void attributeRemoved(HttpSessionBindingEvent event) {
            EVENTS.add("removed " + event.getName() + "=" + event.getValue());
        }

        @Override
        public void sessionIdChanged(HttpSessionEvent event, String oldSessionId) {
            EVENTS.add(oldSessionId.equals(event.getSession().getId()) ? "idUnchanged" : "idChanged");
        }
    }

    /** An attribute that hears of its binding and of activation. */
    record Tracked(String label) implements HttpSessionBindingListener, HttpSessionActivationListener, Serializable {
        @Override
        public void valueBound(HttpSessionBindingEvent event) {
            EVENTS.add("bound " + label + " as " + event.getName());
        }

        @Override
        public void valueUnbound(HttpSessionBindingEvent event) {
            EVENTS.add("unbound " + label + " by " + event.getValue());
        }

        @Override
        public void sessionWillPassivate(HttpSessionEvent se) {
            ACTIVATIONS.add("passivate");
        }

        @Override
        public void sessionDidActivate(HttpSessionEvent se) {
            ACTIVATIONS.add("activate");
        }
    }
}
