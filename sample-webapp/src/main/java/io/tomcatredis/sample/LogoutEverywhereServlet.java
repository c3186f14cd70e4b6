package io.tomcatredis.sample;

import io.tomcatredis.session.RedisSessions;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;

/**
 * Signs the visitor out on all devices: every session signed in under their name, on every node,
 * this one included, is invalidated at once (each session's listeners fire once, on this node).
 */
@WebServlet("/logout-everywhere")
public class LogoutEverywhereServlet extends HttpServlet {

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        HttpSession session = request.getSession(false);
        Object user = session == null ? null : session.getAttribute(RedisSessions.PRINCIPAL_NAME_ATTRIBUTE);
        if (user instanceof String name) {
            RedisSessions.invalidateAll(getServletContext(), name);
        }
        response.sendRedirect(request.getContextPath() + "/catalog");
    }
}
