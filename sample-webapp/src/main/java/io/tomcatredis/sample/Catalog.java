package io.tomcatredis.sample;

import java.math.BigDecimal;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The shop's products. Kept in memory for the demo: in a real shop this is the database the page
 * cache shields. (Each node has its own copy; an edit on one node evicts the cached pages for all.)
 */
final class Catalog {

    record Product(String id, String name, String description, BigDecimal price) {
    }

    private static final Map<String, Product> PRODUCTS = new ConcurrentSkipListMap<>();

    static {
        add("p-1", "Espresso cup", "A thick-walled porcelain cup that keeps the crema warm.", "9.50");
        add("p-2", "Pour-over kettle", "Gooseneck kettle with a 1 litre capacity.", "39.00");
        add("p-3", "Hand grinder", "Conical steel burrs, 30 click settings.", "64.00");
        add("p-4", "Coffee scale", "0.1 g resolution with a built-in timer.", "24.90");
        add("p-5", "Paper filters", "100 unbleached filters, size 02.", "5.20");
        add("p-6", "Bean canister", "Airtight, keeps 250 g of beans fresh.", "18.00");
    }

    private Catalog() {
    }

    private static void add(String id, String name, String description, String price) {
        PRODUCTS.put(id, new Product(id, name, description, new BigDecimal(price)));
    }

    static Collection<Product> all() {
        return PRODUCTS.values();
    }

    static Product find(String id) {
        return id == null ? null : PRODUCTS.get(id);
    }

    static void update(String id, String name, BigDecimal price) {
        PRODUCTS.computeIfPresent(id, (key, old) -> new Product(id, name, old.description(), price));
    }
}
