package io.tomcatredis.cache;

import io.tomcatredis.connection.InvalidSettingException;
import java.util.ArrayList;
import java.util.List;

/**
 * One {@code include} or {@code exclude} pattern: an exact path ({@code /about}) or a path prefix
 * ({@code /static/*}), with the default TTL of what it matches. Extension patterns
 * ({@code *.css}) are refused on purpose: cacheability decided from a path's extension is what web
 * cache deception exploits ({@code /account.php/x.css}).
 */
record UrlRule(String pattern, boolean prefix, long ttlSeconds) {

    boolean matches(String path) {
        if (prefix) {
            String base = pattern.substring(0, pattern.length() - 2);
            return path.equals(base) || path.startsWith(base + "/");
        }
        return path.equals(pattern);
    }

    /**
     * Parses {@code "/static/* 86400, /catalog/* 60, /about"}; a rule without TTL gets
     * {@code defaultTtlSeconds}.
     */
    static List<UrlRule> parseAll(String attribute, String raw, long defaultTtlSeconds) {
        List<UrlRule> rules = new ArrayList<>();
        if (raw == null || raw.isBlank()) {
            return rules;
        }
        for (String part : raw.split(",")) {
            String[] words = part.trim().split("\\s+");
            String pattern = words[0];
            if (pattern.isEmpty()) {
                continue;
            }
            if (!pattern.startsWith("/")) {
                throw new InvalidSettingException(attribute, "pattern \"" + pattern + "\" must start with '/'"
                        + (pattern.startsWith("*.") ? " (extension patterns are refused: a path's extension"
                        + " must never decide what is cached)" : ""));
            }
            boolean prefix = pattern.endsWith("/*");
            if (pattern.indexOf('*') >= 0 && (!prefix || pattern.indexOf('*') != pattern.length() - 1)) {
                throw new InvalidSettingException(attribute, "pattern \"" + pattern
                        + "\" may only end with /* (prefix) or have no * (exact path)");
            }
            long ttl = defaultTtlSeconds;
            if (words.length > 1) {
                try {
                    ttl = Long.parseLong(words[1]);
                } catch (NumberFormatException e) {
                    throw new InvalidSettingException(attribute, "TTL \"" + words[1] + "\" of " + pattern
                            + " is not a whole number of seconds");
                }
                if (ttl < 0) {
                    throw new InvalidSettingException(attribute, "TTL of " + pattern + " is negative");
                }
            }
            rules.add(new UrlRule(pattern, prefix, ttl));
        }
        return rules;
    }
}
