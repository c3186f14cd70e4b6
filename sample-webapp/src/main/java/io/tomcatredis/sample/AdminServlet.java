package io.tomcatredis.sample;

import io.tomcatredis.cache.RedisCache;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.math.BigDecimal;

/** Edits a product and evicts every cached page tagged with it, on all nodes. */
@WebServlet("/admin/product")
public class AdminServlet extends HttpServlet {

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String id = request.getParameter("id");
        try {
            Catalog.update(id, request.getParameter("name"), new BigDecimal(request.getParameter("price")));
        } catch (RuntimeException e) {
            response.sendError(400, "Name and a decimal price are required");
            return;
        }
        RedisCache.of(getServletContext()).evictTag("product-" + id);
        RedisCache.of(getServletContext()).evictTag("catalog");
        response.sendRedirect(request.getContextPath() + "/catalog/" + id);
    }
}
