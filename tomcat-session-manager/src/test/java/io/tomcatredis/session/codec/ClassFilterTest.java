package io.tomcatredis.session.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Output;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.aop.support.DefaultBeanFactoryPointcutAdvisor;
import org.springframework.beans.factory.ObjectFactory;
import org.springframework.jndi.support.SimpleJndiBeanFactory;

/**
 * What the class filter refuses beyond exact names: the whole hierarchy of a gadget, classes Java
 * serialization could never have written, and the classes Tomcat's
 * sessionAttributeValueClassNameFilter excludes, before any of them is instantiated.
 */
class ClassFilterTest {

    @Test
    void subclassesAndImplementationsOfListedGadgetsAreDenied() {
        assertThat(ClassFilter.DENY_LIST_ONLY.allows(SimpleJndiBeanFactory.class)).isFalse();
        assertThat(ClassFilter.DENY_LIST_ONLY.allows(DefaultBeanFactoryPointcutAdvisor.class))
                .as("subclass of AbstractBeanFactoryPointcutAdvisor").isFalse();
        assertThat(ClassFilter.DENY_LIST_ONLY.allows(OwnObjectFactory.class)).as("implements ObjectFactory").isFalse();
        assertThat(ClassFilter.DENY_LIST_ONLY.allows(OwnObjectFactory[].class)).isFalse();
        assertThat(ClassFilter.DENY_LIST_ONLY.allows(Profile.class)).isTrue();
    }

    /** An application class implementing a listed interface. */
    static final class OwnObjectFactory implements ObjectFactory<Object>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public Object getObject() {
            return null;
        }
    }

    record Profile(String name) implements Serializable {
    }

    @Test
    void springJndiBeanFactoryInKryoBytesIsNeverRead() {
        SimpleJndiBeanFactory gadget = new SimpleJndiBeanFactory();
        gadget.addShareableResource("ldap://attacker.invalid/x");
        byte[] bytes = legacyKryo(new ArrayList<>(List.of(gadget)));
        AttributeCodec codec = AttributeCodec.create("kryo", getClass().getClassLoader(), ClassFilter.parse("*"));

        assertThatThrownBy(() -> codec.decode(bytes)).isInstanceOf(SerializationException.class)
                .hasMessageContaining("SimpleJndiBeanFactory");
    }

    @Test
    void jdkClassThatIsNotSerializableIsNeverReadFromKryoBytes() {
        assertThatThrownBy(() -> ClassFilter.DENY_LIST_ONLY.checkKryoClass(Thread.class))
                .isInstanceOf(RejectedClassException.class).hasMessageContaining("not Serializable");
        assertThatThrownBy(() -> ClassFilter.DENY_LIST_ONLY.checkKryoClass(java.util.ServiceLoader.class))
                .isInstanceOf(RejectedClassException.class);
    }

    /** As in release 0.1, Kryo writes (and so reads) an application object that is not Serializable inside a value. */
    @Test
    void applicationClassThatIsNotSerializableIsStillWrittenAndRead() throws Exception {
        AttributeCodec codec = AttributeCodec.create("kryo", getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY);

        Object read = codec.decode(codec.encode(new ArrayList<>(List.of(new Plain()))));

        assertThat(read).asList().singleElement().isInstanceOf(Plain.class);
    }

    static final class Plain {
        String name = "plain";
    }

    @ParameterizedTest
    @ValueSource(strings = {"kryo", "java"})
    void classesTomcatsValueClassNameFilterExcludesAreNeverInstantiated(String serializer) throws Exception {
        ClassFilter strict = ClassFilter.DENY_LIST_ONLY.allowingOnly(Pattern.compile("java\\.lang\\.String"));
        AttributeCodec writer = AttributeCodec.create(serializer, getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY);
        AttributeCodec reader = AttributeCodec.create(serializer, getClass().getClassLoader(), strict);
        HashMap<String, Object> value = new HashMap<>();
        value.put("k", new Canary());
        byte[] bytes = writer.encode(value);
        byte[] text = writer.encode("text");
        Canary.READS.set(0);

        assertThatThrownBy(() -> reader.decode(bytes)).isInstanceOf(SerializationException.class)
                .hasMessageContaining("java.util.HashMap");
        assertThat(Canary.READS).as("readObject calls of a class the filter excludes").hasValue(0);
        assertThat(reader.decode(text)).isEqualTo("text");
        assertThat(strict.allows(Canary.class)).isFalse();
        assertThat(strict.allows(String.class)).isTrue();
    }

    /** Each filter keeps its own verdicts per class, and a refused class stays refused at every read. */
    @Test
    void verdictsAreKeptPerFilter() throws Exception {
        ClassFilter strict = ClassFilter.parse("!" + Profile.class.getName());
        AttributeCodec permissiveCodec = AttributeCodec.create("kryo", getClass().getClassLoader(),
                ClassFilter.DENY_LIST_ONLY);
        AttributeCodec strictCodec = AttributeCodec.create("kryo", getClass().getClassLoader(), strict);
        byte[] bytes = permissiveCodec.encode(new Profile("ann"));

        assertThat(permissiveCodec.decode(bytes)).isEqualTo(new Profile("ann"));
        for (int read = 0; read < 2; read++) {
            assertThatThrownBy(() -> strictCodec.decode(bytes)).isInstanceOf(SerializationException.class)
                    .hasMessageContaining(Profile.class.getName());
        }
        assertThat(permissiveCodec.decode(bytes)).isEqualTo(new Profile("ann"));
        ClassFilter.DENY_LIST_ONLY.checkKryoClass(Profile.class);
        assertThatThrownBy(() -> strict.checkKryoClass(Profile.class)).isInstanceOf(RejectedClassException.class);
    }

    /** Counts its deserializations. */
    static final class Canary implements Serializable {
        private static final long serialVersionUID = 1L;
        static final AtomicInteger READS = new AtomicInteger();

        private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
            in.defaultReadObject();
            READS.incrementAndGet();
        }
    }

    /** What release 0.1 wrote: Kryo with class names and field serializers, which wrote any class. */
    private byte[] legacyKryo(Object value) {
        Kryo kryo = LegacyKryoFactory.create(getClass().getClassLoader(), ClassFilter.DENY_LIST_ONLY);
        try (Output output = new Output(256, -1)) {
            kryo.writeClassAndObject(output, value);
            return output.toBytes();
        }
    }
}
