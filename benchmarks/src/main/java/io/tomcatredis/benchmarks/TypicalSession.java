package io.tomcatredis.benchmarks;

import java.io.Serializable;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.AuthorityUtils;
import org.springframework.security.core.context.SecurityContextImpl;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.web.authentication.WebAuthenticationDetails;

/**
 * The attributes of a typical session, one entry per attribute as the session store keeps them:
 * a profile object, a set of 100 ids, a cart of 20 line items, and Spring Security's context with
 * an authenticated token, its user, two authorities and the request details.
 */
public final class TypicalSession {

    private TypicalSession() {
    }

    public enum Plan { FREE, PRO, ENTERPRISE }

    public static final class Profile implements Serializable {
        private static final long serialVersionUID = 1L;
        long id;
        String name;
        String email;
        Locale locale;
        Instant createdAt;
        Plan plan;
        boolean newsletter;
        Map<String, String> preferences;
    }

    public static final class LineItem implements Serializable {
        private static final long serialVersionUID = 1L;
        String sku;
        String name;
        int quantity;
        BigDecimal unitPrice;
    }

    public static final class Cart implements Serializable {
        private static final long serialVersionUID = 1L;
        String id;
        List<LineItem> items;
        String currency;
        Instant updatedAt;
    }

    /** Attribute name to value; {@code common} leaves out the security context. */
    public static Map<String, Object> attributes(boolean withSecurityContext) {
        Map<String, Object> attributes = new LinkedHashMap<>();
        attributes.put("profile", profile());
        attributes.put("recentlyViewed", recentlyViewed());
        attributes.put("cart", cart());
        if (withSecurityContext) {
            attributes.put("SPRING_SECURITY_CONTEXT", securityContext());
        }
        return attributes;
    }

    /** The set of 100 ids of the typical session. */
    public static Set<Long> recentlyViewed() {
        Set<Long> ids = new HashSet<>();
        for (long i = 0; i < 100; i++) {
            ids.add(1_000_000L + i * 37);
        }
        return ids;
    }

    /** The profile object of the typical session. */
    public static Profile profile() {
        Profile profile = new Profile();
        profile.id = 4242;
        profile.name = "Ann Example";
        profile.email = "ann@example.com";
        profile.locale = Locale.UK;
        profile.createdAt = Instant.parse("2025-03-01T09:30:00Z");
        profile.plan = Plan.PRO;
        profile.newsletter = true;
        profile.preferences = new HashMap<>(Map.of("theme", "dark", "currency", "EUR", "pageSize", "50"));
        return profile;
    }

    static Cart cart() {
        return cart(20);
    }

    /** A cart of {@code items} line items (the typical session's has 20). */
    public static Cart cart(int items) {
        Cart cart = new Cart();
        cart.id = "cart-7f3a";
        cart.currency = "EUR";
        cart.updatedAt = Instant.parse("2026-11-28T10:15:30Z");
        cart.items = new ArrayList<>();
        for (int i = 0; i < items; i++) {
            LineItem item = new LineItem();
            item.sku = "SKU-" + (10_000 + i);
            item.name = "Product number " + i;
            item.quantity = 1 + i % 3;
            item.unitPrice = new BigDecimal("19.90").add(BigDecimal.valueOf(i));
            cart.items.add(item);
        }
        return cart;
    }

    static SecurityContextImpl securityContext() {
        List<GrantedAuthority> authorities = AuthorityUtils.createAuthorityList("ROLE_USER", "ROLE_ADMIN");
        User user = new User("ann", "", true, true, true, true, authorities);
        UsernamePasswordAuthenticationToken token = UsernamePasswordAuthenticationToken.authenticated(user, null,
                authorities);
        token.setDetails(new WebAuthenticationDetails("10.0.0.7", "8E3B1C0D5F"));
        return new SecurityContextImpl(token);
    }
}
