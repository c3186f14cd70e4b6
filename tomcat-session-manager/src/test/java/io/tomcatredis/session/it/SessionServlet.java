package io.tomcatredis.session.it;

import io.tomcatredis.session.RedisSessions;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Session operations driven by the path, for the integration tests. Answers plain text. */
final class SessionServlet extends HttpServlet {

    /** Latches shared by both nodes (same JVM) to hold requests in flight at the same time. */
    static final Map<String, CountDownLatch> BARRIERS = new ConcurrentHashMap<>();

    /** Neither Serializable nor a record. */
    static final class Unserializable {
        final Thread owner = Thread.currentThread();
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setContentType("text/plain;charset=UTF-8");
        String op = request.getPathInfo() == null ? "" : request.getPathInfo().substring(1);
        String name = request.getParameter("name");
        String value = request.getParameter("value");
        String out;
        switch (op) {
            case "none" -> out = "no session touched";
            case "secure/whoami" -> out = request.getRemoteUser() + " " + request.getAuthType();
            case "id" -> {
                HttpSession session = request.getSession(false);
                out = session == null ? "none" : session.getId() + " new=" + session.isNew();
            }
            case "create" -> out = request.getSession().getId();
            case "set" -> {
                HttpSession session = request.getSession();
                awaitBarrier(request.getParameter("barrier"));
                session.setAttribute(name, value);
                out = session.getId();
            }
            case "get" -> {
                HttpSession session = request.getSession(false);
                out = session == null ? "no session" : String.valueOf(session.getAttribute(name));
            }
            case "names" -> {
                HttpSession session = request.getSession(false);
                List<String> names = session == null ? List.of() : Collections.list(session.getAttributeNames());
                out = String.join(",", names.stream().sorted().toList());
            }
            case "remove" -> {
                request.getSession().removeAttribute(name);
                out = "removed";
            }
            case "cart-add" -> {
                HttpSession session = request.getSession();
                @SuppressWarnings("unchecked")
                List<String> cart = (List<String>) session.getAttribute("cart");
                if (cart == null) {
                    cart = new ArrayList<>();
                    session.setAttribute("cart", cart);
                }
                cart.add(value);
                out = cart.toString();
            }
            case "incr" -> {
                HttpSession session = request.getSession();
                Integer counter = (Integer) session.getAttribute("counter");
                int next = counter == null ? 1 : counter + 1;
                session.setAttribute("counter", next);
                out = Integer.toString(next);
            }
            case "unserializable" -> {
                HttpSession session = request.getSession();
                session.setAttribute(name, new Unserializable());
                session.setAttribute("ok", "stored");
                out = "set";
            }
            case "invalidate" -> {
                HttpSession session = request.getSession(false);
                if (session != null) {
                    session.invalidate();
                }
                out = "invalidated";
            }
            case "change-id" -> {
                request.getSession();
                out = request.changeSessionId();
            }
            case "login" -> {
                // As a login form does: the session exists, the authenticator changes its id and caches the principal.
                request.getSession();
                try {
                    String user = request.getParameter("user");
                    if (request.getUserPrincipal() != null) {
                        // Another user on the same session: one save moves it from one index to the other.
                        request.logout();
                    }
                    request.login(user, "ann".equals(user) ? "secret" : TomcatNode.ANY_USER_PASSWORD);
                } catch (jakarta.servlet.ServletException e) {
                    response.sendError(403);
                    return;
                }
                out = request.getSession().getId();
            }
            case "app-login" -> {
                // An application that signs users in itself, without a container principal.
                HttpSession session = request.getSession();
                session.setAttribute(RedisSessions.PRINCIPAL_NAME_ATTRIBUTE, request.getParameter("user"));
                out = session.getId();
            }
            case "logout" -> {
                try {
                    request.logout();
                } catch (jakarta.servlet.ServletException e) {
                    throw new IOException(e);
                }
                out = "logged out";
            }
            case "whoami" -> out = String.valueOf(request.getRemoteUser());
            case "sessions-of" -> out = String.join(" ", RedisSessions.sessionsOf(getServletContext(),
                    request.getParameter("user")).stream().map(RedisSessions.UserSession::id).sorted().toList());
            case "invalidate-all" -> out = Integer.toString(
                    RedisSessions.invalidateAll(getServletContext(), request.getParameter("user")));
            case "signout-everywhere" -> out = Integer.toString(
                    RedisSessions.invalidateAll(getServletContext(), request.getRemoteUser()));
            case "recommend" -> {
                RedisSessions.Scope scope = RedisSessions.of(request.getSession());
                scope.sadd("recommendations", value);
                out = scope.key("recommendations");
            }
            case "recommendations" -> {
                RedisSessions.Scope scope = RedisSessions.of(request.getSession());
                out = String.join(",", new java.util.TreeSet<>(scope.smembers("recommendations")));
            }
            case "times" -> {
                HttpSession session = request.getSession();
                out = session.getCreationTime() + " " + session.getLastAccessedTime() + " " + session.isNew() + " "
                        + session.getMaxInactiveInterval();
            }
            case "max-inactive" -> {
                request.getSession().setMaxInactiveInterval(Integer.parseInt(value));
                out = "ok";
            }
            case "many" -> {
                HttpSession session = request.getSession();
                int count = Integer.parseInt(value);
                for (int i = 0; i < count; i++) {
                    session.setAttribute("attribute-" + i, "value-" + i);
                }
                out = Integer.toString(count);
            }
            case "count" -> {
                HttpSession session = request.getSession(false);
                out = session == null ? "no session" : Integer.toString(Collections.list(session.getAttributeNames()).size());
            }
            case "value-object" -> {
                request.getSession().setAttribute(name, new Profile(value, value + "@example.com"));
                out = "ok";
            }
            default -> {
                response.sendError(404);
                return;
            }
        }
        response.getWriter().write(out);
    }

    private static void awaitBarrier(String barrier) {
        if (barrier == null) {
            return;
        }
        CountDownLatch latch = BARRIERS.get(barrier);
        latch.countDown();
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("barrier " + barrier + " not reached");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A plain application value class. */
    record Profile(String name, String email) implements Serializable {
    }
}
