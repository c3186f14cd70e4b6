package io.tomcatredis.sample;

import io.tomcatredis.session.RedisSessions;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.util.List;
import java.util.TreeSet;

/** The signed-in visitor's page: profile, recommendations and cart, all from their session. */
@WebServlet("/account")
public class AccountServlet extends HttpServlet {

    @Override
    @SuppressWarnings("unchecked")
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        HttpSession session = request.getSession(false);
        if (session == null || session.getAttribute("profile.name") == null) {
            response.sendRedirect(request.getContextPath() + "/login");
            return;
        }
        String context = request.getContextPath();
        StringBuilder recommendations = new StringBuilder("<ul class=\"products\">");
        for (String id : new TreeSet<>(RedisSessions.of(session).smembers("recommendations"))) {
            Catalog.Product product = Catalog.find(id);
            if (product != null) {
                recommendations.append("<li><a href=\"").append(context).append("/catalog/").append(id).append("\">")
                        .append(Page.escape(product.name())).append("</a></li>");
            }
        }
        List<String> cart = (List<String>) session.getAttribute("cart");
        StringBuilder items = new StringBuilder("<ul id=\"cart\">");
        if (cart == null || cart.isEmpty()) {
            items.append("<li class=\"muted\">Your cart is empty.</li>");
        } else {
            for (String id : cart) {
                Catalog.Product product = Catalog.find(id);
                items.append("<li>").append(Page.escape(product == null ? id : product.name())).append("</li>");
            }
        }
        Page.write(request, response, "Your account", """
                <section class="card"><h2>Profile</h2><dl>
                  <dt>Name</dt><dd id="profile-name">%s</dd>
                  <dt>Email</dt><dd>%s</dd><dt>Phone</dt><dd>%s</dd></dl></section>
                <section class="card"><h2>Recommended for you</h2>%s</ul></section>
                <section class="card"><h2>Cart</h2>%s</ul></section>
                <section class="card"><h2>Devices</h2>
                  <p id="devices">Signed in on %d device(s), on any node.</p>
                  <form method="post" action="%s/logout-everywhere"><button>Sign out on all devices</button></form></section>
                """.formatted(Page.escape(String.valueOf(session.getAttribute("profile.name"))),
                Page.escape(String.valueOf(session.getAttribute("profile.email"))),
                Page.escape(String.valueOf(session.getAttribute("profile.phone"))), recommendations, items,
                RedisSessions.sessionsOf(getServletContext(),
                        String.valueOf(session.getAttribute(RedisSessions.PRINCIPAL_NAME_ATTRIBUTE))).size(),
                context));
    }
}
