package io.tomcatredis.sample;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;

/** The shop's page frame: header, navigation, which node served the page, footer. */
final class Page {

    private Page() {
    }

    /** The name of the node serving the request: the {@code tomcatredis.node} system property. */
    static String node() {
        return System.getProperty("tomcatredis.node", "node");
    }

    static void write(HttpServletRequest request, HttpServletResponse response, String title, String body)
            throws IOException {
        response.setContentType("text/html;charset=UTF-8");
        String context = request.getContextPath();
        HttpSession session = request.getSession(false);
        Object user = session == null ? null : session.getAttribute("profile.name");
        String account = user == null
                ? "<a href=\"" + context + "/login\">Sign in</a>"
                : "<a href=\"" + context + "/account\">" + escape(user.toString()) + "</a>"
                  + " <form class=\"inline\" method=\"post\" action=\"" + context + "/logout\">"
                  + "<button class=\"link\">Sign out</button></form>";
        response.getWriter().write("""
                <!DOCTYPE html>
                <html lang="en">
                <head>
                  <meta charset="utf-8">
                  <meta name="viewport" content="width=device-width, initial-scale=1">
                  <title>%s · Bean &amp; Burr</title>
                  <link rel="stylesheet" href="%s/static/shop.css">
                  <script src="%s/static/shop.js" defer></script>
                </head>
                <body>
                  <header>
                    <a class="brand" href="%s/catalog"><img src="%s/static/logo.svg" alt="" width="32" height="32">Bean &amp; Burr</a>
                    <nav><a href="%s/catalog">Catalog</a> <a href="%s/inspector">Session inspector</a> %s</nav>
                  </header>
                  <main>
                    <h1>%s</h1>
                    %s
                  </main>
                  <footer>Served by <strong id="node" data-live="%s/node">%s</strong> · sessions and page cache in Redis</footer>
                </body>
                </html>
                """.formatted(escape(title), context, context, context, context, context, context, account,
                escape(title), body, context, escape(node())));
    }

    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
