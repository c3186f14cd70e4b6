package io.tomcatredis.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tomcatredis.connection.InvalidSettingException;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CacheSettingsTest {

    private static CacheSettings parse(String... pairs) {
        Map<String, String> params = new HashMap<>(Map.of("include", "/static/* 86400, /catalog/* 60, /about",
                "allowedHosts", "Shop.Example.com"));
        for (int i = 0; i < pairs.length; i += 2) {
            params.put(pairs[i], pairs[i + 1]);
        }
        return CacheSettings.parse(params::get, "/shop");
    }

    @Test
    void rulesGiveTheirTtlAndExcludeWins() {
        CacheSettings settings = parse("exclude", "/catalog/admin/*");
        assertThat(settings.ruleTtlSeconds("/static/app.css")).isEqualTo(86400);
        assertThat(settings.ruleTtlSeconds("/catalog/7")).isEqualTo(60);
        assertThat(settings.ruleTtlSeconds("/catalog")).isEqualTo(60);
        assertThat(settings.ruleTtlSeconds("/about")).isEqualTo(60);
        assertThat(settings.ruleTtlSeconds("/about/x")).isEqualTo(-1);
        assertThat(settings.ruleTtlSeconds("/catalog/admin/x")).isEqualTo(-1);
        assertThat(settings.ruleTtlSeconds("/staticfile")).isEqualTo(-1);
        assertThat(settings.allowedHosts()).containsExactly("shop.example.com");
        assertThat(settings.keyPrefix()).isEqualTo("tomcat-cache:/shop:");
        assertThat(settings.maxEntryBytes()).isEqualTo(1024 * 1024);
    }

    @Test
    void extensionPatternsAndMissingSettingsAreRefusedByName() {
        assertThatThrownBy(() -> parse("include", "*.css")).isInstanceOf(InvalidSettingException.class)
                .hasMessageContaining("'include'").hasMessageContaining("extension");
        assertThatThrownBy(() -> parse("include", "/a/*/b")).hasMessageContaining("'include'");
        assertThatThrownBy(() -> parse("include", "/a/* soon")).hasMessageContaining("'include'");
        assertThatThrownBy(() -> parse("include", "")).hasMessageContaining("'include'");
        assertThatThrownBy(() -> CacheSettings.parse(Map.of("include", "/a/*")::get, ""))
                .hasMessageContaining("'allowedHosts'");
        assertThatThrownBy(() -> parse("keyPrefix", "a{b}")).hasMessageContaining("'keyPrefix'");
        assertThatThrownBy(() -> parse("maxEntryBytes", "big")).hasMessageContaining("'maxEntryBytes'");
    }

    @Test
    void ignoredCookiesAreExactNamesOrPrefixesAndNeverTheSessionCookie() {
        CacheSettings settings = parse("ignoredCookies", "_ga*, consent");
        assertThat(settings.cookieIgnored("_ga")).isTrue();
        assertThat(settings.cookieIgnored("_gat_UA1")).isTrue();
        assertThat(settings.cookieIgnored("consent")).isTrue();
        assertThat(settings.cookieIgnored("consent2")).isFalse();
        assertThat(settings.cookieIgnored("Consent")).isFalse();
        assertThat(parse().cookieIgnored("_ga")).as("none by default").isFalse();
        assertThatThrownBy(() -> parse("ignoredCookies", "*")).hasMessageContaining("'ignoredCookies'");
        assertThatThrownBy(() -> parse("ignoredCookies", "a*b")).hasMessageContaining("'ignoredCookies'");
        assertThatThrownBy(() -> parse("ignoredCookies", "JSESSIONID")).hasMessageContaining("session cookie");
    }

    @Test
    void cacheStatusIsOnByDefaultAndItsNameMustBeAToken() {
        CacheSettings defaults = parse();
        assertThat(defaults.cacheStatus()).isTrue();
        assertThat(defaults.xCache()).isTrue();
        assertThat(defaults.cacheStatusName()).isEqualTo("tomcat-redis");
        CacheSettings off = parse("cacheStatus", "false", "xCache", "false", "cacheStatusName", "shop-cache");
        assertThat(off.cacheStatus()).isFalse();
        assertThat(off.xCache()).isFalse();
        assertThat(off.cacheStatusName()).isEqualTo("shop-cache");
        assertThatThrownBy(() -> parse("cacheStatusName", "my cache")).isInstanceOf(InvalidSettingException.class)
                .hasMessageContaining("'cacheStatusName'").hasMessageContaining("token");
    }

    @Test
    void aCookieHeaderAParserCouldSplitOtherwiseThanTheContainerIsPersonal() {
        CacheSettings settings = parse("ignoredCookies", "_ga*, consent");
        assertThat(settings.personalCookie("_ga=GA1.2.3; consent=\"yes\"")).isFalse();
        for (String header : new String[] {"_ga=GA1.2.3, SESSION=alice", "_ga=a b", "_ga=\"a,b\"", "_ga=a\\b",
                "_ga=a\"b", "_ga=\"", "_ga=caf\u00e9", "_ga", "consent=yes;_ga=1\u0001"}) {
            assertThat(settings.personalCookie(header)).as(header).isTrue();
        }
    }

    @Test
    void ignoredHeadersAreNamesOrPrefixesAndNeverCredentials() {
        CacheSettings settings = parse("ignoredHeaders", "CF-IPCountry, X-Edge-*");
        assertThat(settings.headerIgnored("cf-ipcountry")).isTrue();
        assertThat(settings.headerIgnored("X-Edge-Location")).isTrue();
        assertThat(settings.headerIgnored("X-Edge")).isFalse();
        assertThat(parse().headerIgnored("CF-IPCountry")).as("none by default").isFalse();
        assertThatThrownBy(() -> parse("ignoredHeaders", "*")).hasMessageContaining("'ignoredHeaders'");
        assertThatThrownBy(() -> parse("ignoredHeaders", "X-*-Id")).hasMessageContaining("'ignoredHeaders'");
        assertThatThrownBy(() -> parse("ignoredHeaders", "Authorization")).hasMessageContaining("credentials");
        assertThatThrownBy(() -> parse("ignoredHeaders", "Cookie")).hasMessageContaining("credentials");
    }

    @Test
    void localTierIsOffByDefaultAndItsBoundsAreCheckedWithTheMessagesOfTheOtherParams() {
        assertThat(parse().localTierBytes()).isZero();
        assertThat(parse().localTierMaxLagMillis()).isEqualTo(1000);
        assertThat(parse("localTierBytes", "16777216", "localTierMaxLagMillis", "250"))
                .extracting(CacheSettings::localTierBytes, CacheSettings::localTierMaxLagMillis)
                .containsExactly(16_777_216L, 250);
        assertThatThrownBy(() -> parse("localTierBytes", "-1")).isInstanceOf(InvalidSettingException.class)
                .hasMessage("Invalid value for attribute 'localTierBytes': -1 is outside the allowed range 0..2147483647");
        assertThatThrownBy(() -> parse("localTierBytes", "16m"))
                .hasMessage("Invalid value for attribute 'localTierBytes': \"16m\" is not a whole number");
        assertThatThrownBy(() -> parse("localTierMaxLagMillis", "99"))
                .hasMessage("Invalid value for attribute 'localTierMaxLagMillis': 99 is outside the allowed range 100..60000");
    }

    /**
     * Issue 18 attack: a cache that scales out over a Redis Cluster may be given more than 2 GiB;
     * before, {@code maxCacheBytes="4294967296"} stopped the webapp with "is not a whole number".
     */
    @Test
    void maxCacheBytesGoesBeyondTwoGibibytes() {
        assertThat(parse("maxCacheBytes", "4294967296").maxCacheBytes()).isEqualTo(4_294_967_296L);
        assertThat(parse("maxCacheBytes", "1125899906842624").maxCacheBytes()).isEqualTo(1L << 50);
        assertThatThrownBy(() -> parse("maxCacheBytes", "1125899906842625")).isInstanceOf(InvalidSettingException.class)
                .hasMessageContaining("'maxCacheBytes'").hasMessageContaining("outside the allowed range 1..1125899906842624");
        assertThatThrownBy(() -> parse("maxCacheBytes", "99999999999999999999")).hasMessageContaining("'maxCacheBytes'")
                .hasMessageContaining("99999999999999999999 is outside the allowed range 1..1125899906842624");
        assertThat(parse().maxCacheBytes()).isEqualTo(64L * 1024 * 1024);
    }
}
