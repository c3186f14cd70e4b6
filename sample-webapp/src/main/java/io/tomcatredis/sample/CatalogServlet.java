package io.tomcatredis.sample;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Catalog and product pages, rendered on the server and cached by the filter for every visitor.
 * Tagged, so that editing a product evicts exactly its pages.
 */
@WebServlet({"/catalog", "/catalog/*"})
public class CatalogServlet extends HttpServlet {

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String context = request.getContextPath();
        String id = request.getPathInfo() == null ? null : request.getPathInfo().substring(1);
        if (id == null || id.isEmpty()) {
            StringBuilder list = new StringBuilder("<p class=\"lead\">Everything for better coffee at home."
                    + " This page is rendered once and then served from Redis to every visitor, on every node.</p>"
                    + "<ul class=\"products\">");
            for (Catalog.Product product : Catalog.all()) {
                list.append("<li><a href=\"").append(context).append("/catalog/").append(product.id()).append("\">")
                        .append(Page.escape(product.name())).append("</a><span class=\"price\">€ ")
                        .append(product.price()).append("</span></li>");
            }
            response.setHeader("X-Cache-Tags", "catalog");
            Page.write(request, response, "Catalog", list.append("</ul>").toString());
            return;
        }
        Catalog.Product product = Catalog.find(id);
        if (product == null) {
            response.setStatus(404);
            Page.write(request, response, "Not found", "<p>No such product.</p>");
            return;
        }
        response.setHeader("X-Cache-Tags", "product-" + product.id() + " catalog");
        Page.write(request, response, product.name(), """
                <p class="lead">%s</p>
                <p class="price">€ %s</p>
                <form method="post" action="%s/cart"><input type="hidden" name="id" value="%s">
                  <button>Add to cart</button></form>
                <details><summary>Edit product (evicts its cached pages)</summary>
                <form method="post" action="%s/admin/product"><input type="hidden" name="id" value="%s">
                  <label>Name <input name="name" value="%s"></label>
                  <label>Price <input name="price" value="%s"></label>
                  <button>Save</button></form></details>
                """.formatted(Page.escape(product.description()), product.price(), context, product.id(), context,
                product.id(), Page.escape(product.name()), product.price()));
    }
}
