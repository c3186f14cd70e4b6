package io.tomcatredis.session.it;

import io.tomcatredis.session.RedisSessions;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.io.NotSerializableException;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The scenarios of the session-core issue (#10), driven by the path under {@code /app/core/*}:
 * requests held in flight on a {@link Gate} the test controls, work on other threads, responses
 * committed before the servlet returns, and the targets of the error pages {@link SessionCoreIT}
 * maps. Answers plain text.
 */
final class CoreScenarioServlet extends HttpServlet {

    /** Gates shared by both nodes and the test (one JVM), by name. */
    static final Map<String, Gate> GATES = new ConcurrentHashMap<>();
    /** HttpSession objects kept past their request, as a WebSocket endpoint keeps the one of its handshake. */
    static final Map<String, HttpSession> KEPT = new ConcurrentHashMap<>();
    /** An application's own thread pool. */
    private static final ExecutorService APPLICATION_POOL = Executors.newCachedThreadPool(r -> {
        Thread thread = new Thread(r, "application-pool");
        thread.setDaemon(true);
        return thread;
    });

    /** Holds a request in flight: the servlet opens {@code entered}, then waits for {@code release}. */
    static final class Gate {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        void hold() {
            entered.countDown();
            try {
                if (!release.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("gate not released within 30 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        void awaitEntered() throws InterruptedException {
            if (!entered.await(30, TimeUnit.SECONDS)) {
                throw new AssertionError("the request never reached its gate");
            }
        }

        void open() {
            release.countDown();
        }
    }

    static Gate gate(String name) {
        return GATES.computeIfAbsent(name, n -> new Gate());
    }

    /** Thrown on purpose, mapped to an exception error page. */
    static final class Boom extends RuntimeException {
        Boom() {
            super("boom on purpose");
        }
    }

    /** An attribute whose serialization fails while {@link #FAIL} is set (a transient failure). */
    static final class Flaky implements Serializable {
        private static final long serialVersionUID = 1L;
        static volatile boolean FAIL;
        private final String value;

        Flaky(String value) {
            this.value = value;
        }

        private void writeObject(ObjectOutputStream out) throws IOException {
            if (FAIL) {
                throw new NotSerializableException("Flaky fails on demand");
            }
            out.defaultWriteObject();
        }

        @Override
        public String toString() {
            return "Flaky[" + value + "]";
        }
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setContentType("text/plain;charset=UTF-8");
        String op = request.getPathInfo() == null ? "" : request.getPathInfo().substring(1);
        String name = request.getParameter("name");
        String value = request.getParameter("value");
        Gate gate = request.getParameter("gate") == null ? null : gate(request.getParameter("gate"));
        String out;
        switch (op) {
            case "hold" -> {
                HttpSession session = request.getSession(false);
                gate.hold();
                if (session != null && name != null) {
                    session.setAttribute(name, value);
                }
                out = "held";
            }
            case "flush-hold" -> {
                request.getSession().setAttribute(name, value);
                response.getWriter().write("flushed ");
                response.flushBuffer();
                gate.hold();
                out = "done";
            }
            case "redirect-hold" -> {
                request.getSession().setAttribute(name, value);
                response.sendRedirect("elsewhere");
                gate.hold();
                return;
            }
            case "error-hold" -> {
                request.getSession().setAttribute(name, value);
                response.sendError(409);
                gate.hold();
                return;
            }
            case "big-hold" -> {
                request.getSession().setAttribute(name, value);
                response.getWriter().write("x".repeat(64 * 1024));
                gate.hold();
                out = "done";
            }
            case "async-complete-hold" -> {
                HttpSession session = request.getSession();
                AsyncContext async = request.startAsync();
                async.start(() -> {
                    session.setAttribute(name, value);
                    async.complete();
                    gate.hold();
                });
                return;
            }
            case "load-hold-flush" -> {
                request.getSession().setAttribute(name, value);
                gate.hold();
                response.getWriter().write("flushed");
                response.flushBuffer();
                out = " done";
            }
            case "async-set" -> {
                // touch: the servlet uses the session before startAsync; otherwise the runnable
                // is the first to look it up (or create it).
                if ("touch".equals(request.getParameter("mode"))) {
                    request.getSession();
                }
                AsyncContext async = request.startAsync();
                async.start(() -> {
                    HttpSession session = ((HttpServletRequest) async.getRequest()).getSession();
                    session.setAttribute(name, value);
                    try {
                        async.getResponse().getWriter().write(session.getId());
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    async.complete();
                });
                return;
            }
            case "executor-set" -> {
                boolean onWorker = "on-worker".equals(request.getParameter("mode"));
                HttpSession captured = onWorker ? null : request.getSession();
                try {
                    out = APPLICATION_POOL.submit(() -> {
                        HttpSession session = onWorker ? request.getSession() : captured;
                        session.setAttribute(name, value);
                        return session.getId();
                    }).get(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
            case "keep" -> {
                HttpSession session = request.getSession();
                KEPT.put(request.getParameter("key"), session);
                out = session.getId();
            }
            case "throw" -> throw new Boom();
            case "send-500" -> {
                HttpSession session = request.getSession(false);
                out = session == null ? "no session" : String.valueOf(session.getAttribute("color"));
                response.sendError(500);
                return;
            }
            case "error-create" -> {
                HttpSession session = request.getSession();
                session.setAttribute("rendered", "error-page");
                out = "error page " + request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
            }
            case "error-change" -> {
                HttpSession session = request.getSession(false);
                if (session != null) {
                    session.setAttribute("color", "changed-by-error-page");
                }
                out = "error page " + request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
            }
            case "cart-append" -> {
                @SuppressWarnings("unchecked")
                List<String> cart = (List<String>) request.getSession().getAttribute("cart");
                // A correct application: it guards its own list; it cannot guard the manager's serializer.
                synchronized (cart) {
                    cart.add(value);
                    out = Integer.toString(cart.size());
                }
            }
            case "cart-read" -> {
                @SuppressWarnings("unchecked")
                List<String> cart = (List<String>) request.getSession().getAttribute("cart");
                synchronized (cart) {
                    out = Integer.toString(new ArrayList<>(cart).size());
                }
            }
            case "cart-new" -> {
                request.getSession().setAttribute("cart", new ArrayList<String>());
                out = "ok";
            }
            case "flaky-set" -> {
                request.getSession().setAttribute("flaky", new Flaky(value));
                out = "ok";
            }
            case "flaky-read" -> out = String.valueOf(request.getSession().getAttribute("flaky"));
            case "recommend-hold" -> {
                RedisSessions.Scope scope = RedisSessions.of(request.getSession());
                scope.sadd("recommendations", value);
                gate.hold();
                out = "held";
            }
            case "recommend-change-id" -> {
                RedisSessions.Scope scope = RedisSessions.of(request.getSession());
                scope.sadd("recommendations", value);
                out = request.getSession().getId() + " " + request.changeSessionId();
            }
            default -> {
                response.sendError(404);
                return;
            }
        }
        response.getWriter().write(out);
    }
}
