package io.tomcatredis.sample;

import io.tomcatredis.session.RedisSessions;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.util.Locale;

/**
 * Signs a visitor in (any name will do in the demo): the session id changes, as it must at login,
 * the profile goes into the session hash and the recommendations into a session-scoped Redis set.
 */
@WebServlet("/login")
public class LoginServlet extends HttpServlet {

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Page.write(request, response, "Sign in", """
                <form class="card" method="post" action="%s/login">
                  <label>Name <input name="name" value="Ada Lovelace" required></label>
                  <label>Email <input name="email" value="ada@example.com"></label>
                  <label>Phone <input name="phone" value="987-111-1111"></label>
                  <button>Sign in</button>
                </form>""".formatted(request.getContextPath()));
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String name = request.getParameter("name");
        if (name == null || name.isBlank()) {
            response.sendRedirect(request.getContextPath() + "/login");
            return;
        }
        if (request.getSession(false) != null) {
            request.changeSessionId();
        }
        HttpSession session = request.getSession();
        session.setAttribute("profile.name", name.trim());
        // The demo signs visitors in itself (no container principal): the name is the user, so that
        // "Sign out on all devices" finds every session signed in under it (RedisSessions.invalidateAll).
        session.setAttribute(RedisSessions.PRINCIPAL_NAME_ATTRIBUTE, name.trim());
        session.setAttribute("profile.email", value(request.getParameter("email")));
        session.setAttribute("profile.phone", value(request.getParameter("phone")));
        RedisSessions.Scope scope = RedisSessions.of(session);
        scope.delete("recommendations");
        int seed = Math.abs(name.toLowerCase(Locale.ROOT).hashCode());
        scope.sadd("recommendations", "p-" + (seed % 6 + 1), "p-" + ((seed / 7) % 6 + 1), "p-5");
        response.sendRedirect(request.getContextPath() + "/account");
    }

    private static String value(String text) {
        return text == null ? "" : text.trim();
    }
}
