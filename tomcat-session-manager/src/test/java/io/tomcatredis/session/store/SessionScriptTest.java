package io.tomcatredis.session.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The Lua scripts and {@link SessionHashFormat} name the same fields: one layout, two languages. */
class SessionScriptTest {

    @Test
    void everyFieldAScriptNamesIsOneTheFormatDocuments() throws IllegalAccessException {
        Set<String> documented = new HashSet<>();
        for (Field field : SessionHashFormat.class.getFields()) {
            if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class) {
                documented.add((String) field.get(null));
            }
        }
        Pattern quoted = Pattern.compile("'(meta:[A-Za-z]+)'");
        for (SessionScript script : SessionScript.values()) {
            Matcher matcher = quoted.matcher(script.text());
            while (matcher.find()) {
                assertThat(documented).as(script + " names " + matcher.group(1)).contains(matcher.group(1));
            }
        }
    }
}
