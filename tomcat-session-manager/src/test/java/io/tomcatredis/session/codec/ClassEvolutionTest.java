package io.tomcatredis.session.codec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two deploys of one webapp whose session class gained and lost a field: sessions written by one
 * must stay readable by the other. Each version is compiled at test time and loaded by its own
 * class loader, as Tomcat loads each deploy.
 */
class ClassEvolutionTest {

    private static final String VERSION_1 = """
            package shop;
            public class Cart implements java.io.Serializable {
                public String owner;
                public java.util.List<String> items = new java.util.ArrayList<>();
                public int count;
            }
            """;

    private static final String VERSION_2 = """
            package shop;
            public class Cart implements java.io.Serializable {
                public String owner;
                public java.util.List<String> items = new java.util.ArrayList<>();
                public String currency;
                public java.time.Instant updated;
            }
            """;

    @TempDir
    Path dir;

    @Test
    void fieldAddedAndFieldRemovedBetweenDeploysKeepOldSessionsReadable() throws Exception {
        try (URLClassLoader deploy1 = compile("v1", VERSION_1); URLClassLoader deploy2 = compile("v2", VERSION_2)) {
            Object oldCart = deploy1.loadClass("shop.Cart").getConstructor().newInstance();
            set(oldCart, "owner", "ann");
            set(oldCart, "items", new java.util.ArrayList<>(List.of("apple", "pear")));
            set(oldCart, "count", 2);

            byte[] written = kryo(deploy1).encode(oldCart);
            Object newCart = kryo(deploy2).decode(written);

            assertThat(newCart.getClass().getClassLoader()).isSameAs(deploy2);
            assertThat(get(newCart, "owner")).isEqualTo("ann");
            assertThat(get(newCart, "items")).isEqualTo(List.of("apple", "pear"));
            assertThat(get(newCart, "currency")).isNull();

            set(newCart, "currency", "EUR");
            set(newCart, "updated", java.time.Instant.EPOCH);
            Object rolledBack = kryo(deploy1).decode(kryo(deploy2).encode(newCart));
            assertThat(get(rolledBack, "owner")).isEqualTo("ann");
            assertThat(get(rolledBack, "count")).isEqualTo(0);
        }
    }

    /** As with Java serialization (InvalidClassException), never a value read as another type. */
    @Test
    void fieldWhoseTypeChangedMakesOldValuesUnreadableWithAClearError() throws Exception {
        try (URLClassLoader deploy1 = compile("t1", VERSION_1);
                URLClassLoader deploy2 = compile("t2", VERSION_1.replace("public int count;", "public String count;"))) {
            Object oldCart = deploy1.loadClass("shop.Cart").getConstructor().newInstance();
            set(oldCart, "count", 3);
            byte[] written = kryo(deploy1).encode(oldCart);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> kryo(deploy2).decode(written))
                    .isInstanceOf(SerializationException.class).hasMessageContaining("count");
        }
    }

    @Test
    void enumConstantsReorderedBetweenDeploysKeepTheirNames() throws Exception {
        try (URLClassLoader deploy1 = compile("e1", "package shop; public enum Cart { OPEN, PAID, SHIPPED }");
                URLClassLoader deploy2 = compile("e2", "package shop; public enum Cart { SHIPPED, OPEN, PAID }")) {
            Object paid = deploy1.loadClass("shop.Cart").getField("PAID").get(null);
            Object decoded = kryo(deploy2).decode(kryo(deploy1).encode(new java.util.ArrayList<>(List.of(paid))));
            assertThat(decoded).isEqualTo(List.of(deploy2.loadClass("shop.Cart").getField("PAID").get(null)));
        }
    }

    private static AttributeCodec kryo(ClassLoader loader) {
        return AttributeCodec.create("kryo", loader, ClassFilter.ALLOW_ALL);
    }

    private URLClassLoader compile(String version, String source) throws IOException {
        Path src = dir.resolve(version).resolve("src/shop/Cart.java");
        Path classes = dir.resolve(version).resolve("classes");
        Files.createDirectories(src.getParent());
        Files.createDirectories(classes);
        Files.writeString(src, source);
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        int status = compiler.run(null, null, null, "-d", classes.toString(), src.toString());
        assertThat(status).as("javac of " + version).isZero();
        return new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader());
    }

    private static void set(Object target, String field, Object value) throws ReflectiveOperationException {
        target.getClass().getField(field).set(target, value);
    }

    private static Object get(Object target, String field) throws ReflectiveOperationException {
        return target.getClass().getField(field).get(target);
    }
}
