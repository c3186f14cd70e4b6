package io.tomcatredis.sample;

import io.tomcatredis.cache.CacheStatisticsMBean;
import io.tomcatredis.cache.RedisCache;
import io.tomcatredis.session.RedisSessions;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.util.Map;

/** Shows the visitor's session exactly as Redis holds it, and the page cache's counters. */
@WebServlet("/inspector")
public class InspectorServlet extends HttpServlet {

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        HttpSession session = request.getSession(false);
        StringBuilder body = new StringBuilder();
        if (session == null) {
            body.append("<p class=\"lead\">You have no session yet. <a href=\"").append(request.getContextPath())
                    .append("/login\">Sign in</a> to get one.</p>");
        } else {
            RedisSessions.Snapshot snapshot = RedisSessions.of(session).snapshot();
            body.append("<section class=\"card\"><h2>Your session in Redis</h2><dl>")
                    .append("<dt>Key</dt><dd><code id=\"session-key\">").append(Page.escape(snapshot.key()))
                    .append("</code></dd><dt>TTL</dt><dd>").append(snapshot.ttlSeconds()).append(" s</dd></dl>")
                    .append("<table><thead><tr><th>Field</th><th>Bytes</th></tr></thead><tbody>");
            for (Map.Entry<String, Long> field : snapshot.fields().entrySet()) {
                body.append("<tr><td><code>").append(Page.escape(field.getKey())).append("</code></td><td>")
                        .append(field.getValue()).append("</td></tr>");
            }
            body.append("</tbody></table>");
            for (Map.Entry<String, Long> structure : snapshot.structures().entrySet()) {
                body.append("<p>Structure <code>").append(Page.escape(structure.getKey())).append("</code>: ")
                        .append(structure.getValue() == null ? "absent" : structure.getValue() + " bytes")
                        .append("</p>");
            }
            body.append("<p class=\"muted\">This request's own changes are saved when it ends.</p></section>");
        }
        CacheStatisticsMBean cache = RedisCache.of(getServletContext()).statistics();
        body.append("<section class=\"card\"><h2>Page cache on this node</h2><dl>")
                .append("<dt>Hits</dt><dd id=\"cache-hits\">").append(cache.getHits()).append("</dd>")
                .append("<dt>Misses</dt><dd>").append(cache.getMisses()).append("</dd>")
                .append("<dt>Stale serves</dt><dd>").append(cache.getStaleServes()).append("</dd>")
                .append("<dt>Coalesced waits</dt><dd>").append(cache.getCoalescedWaits()).append("</dd>")
                .append("<dt>Stores</dt><dd>").append(cache.getStores()).append("</dd>")
                .append("<dt>Evictions</dt><dd>").append(cache.getEvictions()).append("</dd>")
                .append("<dt>Bytes in Redis</dt><dd>").append(cache.getBytesStored()).append("</dd>")
                .append("<dt>Bypasses</dt><dd>").append(Page.escape(cache.getBypassesByReason())).append("</dd>")
                .append("</dl></section>");
        Page.write(request, response, "Session inspector", body.toString());
    }
}
