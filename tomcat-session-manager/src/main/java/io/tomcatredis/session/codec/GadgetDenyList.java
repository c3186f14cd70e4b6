package io.tomcatredis.session.codec;

import java.util.List;
import java.util.Set;

/**
 * Classes and packages known from the public catalogues of Java deserialization gadget chains
 * (ysoserial, marshalsec's Java, Kryo and Hessian chains, the Jackson and fastjson block lists,
 * the JDK's own jdk.serialFilter recommendations): never instantiated from what Redis hands back,
 * whatever {@code serialFilter} says. Whoever can write to Redis could otherwise make Tomcat
 * instantiate them. A session value has no business holding any of them.
 *
 * <p>A class is denied when it, or any of its superclasses, is listed or lies in a listed
 * package, or when it implements (directly or through another interface) one of the interfaces
 * listed in {@link #CLASSES}: a subclass of a gadget is as dangerous as the gadget (Tomcat's
 * {@code ResourceRef} is a {@code javax.naming.Reference}). Interfaces are matched by exact name
 * only, so that, for example, a Groovy object ({@code groovy.lang.GroovyObject}) is not denied for
 * being one, while a Groovy closure ({@code groovy.lang.Closure}) is.
 */
final class GadgetDenyList {

    /** Exact class names. */
    private static final Set<String> CLASSES = Set.of(
            "com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl",
            "org.apache.xalan.xsltc.trax.TemplatesImpl",
            "com.sun.rowset.JdbcRowSetImpl",
            "javax.management.BadAttributeValueExpException",
            "javax.management.openmbean.CompositeDataInvocationHandler",
            "javax.management.remote.rmi.RMIConnector",
            "java.rmi.server.UnicastRemoteObject",
            "java.rmi.server.RemoteObjectInvocationHandler",
            "sun.rmi.server.UnicastRef",
            "sun.rmi.server.UnicastRef2",
            "sun.rmi.transport.LiveRef",
            "javax.naming.Reference",
            "javax.naming.ldap.Rdn$RdnEntry",
            "javax.script.ScriptEngineManager",
            "sun.reflect.annotation.AnnotationInvocationHandler",
            "com.sun.jndi.rmi.registry.ReferenceWrapper",
            "com.sun.jndi.ldap.LdapAttribute",
            "org.apache.commons.beanutils.BeanComparator",
            "org.apache.commons.fileupload.disk.DiskFileItem",
            "org.apache.wicket.util.upload.DiskFileItem",
            "org.apache.myfaces.view.facelets.el.ValueExpressionMethodExpression",
            "org.apache.myfaces.el.CompositeComponentExpressionHolder",
            "org.jboss.interceptor.builder.InterceptionModelBuilder",
            "org.hibernate.engine.spi.TypedValue",
            "org.hibernate.tuple.component.AbstractComponentTuplizer",
            "org.springframework.beans.factory.ObjectFactory",
            "org.springframework.beans.factory.support.AutowireUtils$ObjectFactoryDelegatingInvocationHandler",
            "org.springframework.aop.framework.JdkDynamicAopProxy",
            "org.springframework.transaction.jta.JtaTransactionManager",
            "org.springframework.core.SerializableTypeWrapper$MethodInvokeTypeProvider",
            "com.mchange.v2.c3p0.WrapperConnectionPoolDataSource",
            "com.mchange.v2.c3p0.impl.PoolBackedDataSourceBase",
            "com.mchange.v2.c3p0.JndiRefForwardingDataSource",
            "com.sun.syndication.feed.impl.ObjectBean",
            "com.rometools.rome.feed.impl.ObjectBean",
            "com.sun.syndication.feed.impl.ToStringBean",
            "com.rometools.rome.feed.impl.ToStringBean",
            "net.sf.json.JSONObject",
            "com.alibaba.fastjson.JSONObject",
            "org.python.core.PyFunction",
            "org.python.core.PyObject",
            "clojure.core$comp$fn__4727",
            "clojure.main$eval_opt",
            "bsh.XThis",
            "bsh.Interpreter",
            "org.mozilla.javascript.NativeJavaObject",
            "org.mozilla.javascript.NativeError",
            "com.vaadin.data.util.NestedMethodProperty",
            "com.vaadin.data.util.PropertysetItem",
            "org.apache.click.control.Column$ColumnComparator",
            "org.apache.commons.configuration.ConfigurationMap",
            "org.apache.commons.configuration2.ConfigurationMap",
            "org.jboss.weld.interceptor.proxy.DefaultInvocationContextFactory",
            "org.apache.tomcat.dbcp.dbcp2.BasicDataSource",
            "org.apache.commons.dbcp.BasicDataSource",
            "org.apache.commons.dbcp2.BasicDataSource",
            "com.zaxxer.hikari.HikariConfig",
            "com.zaxxer.hikari.HikariDataSource",
            "org.apache.ibatis.datasource.unpooled.UnpooledDataSource",
            // marshalsec's Spring chains (SpringAbstractBeanFactoryPointcutAdvisor,
            // SpringPartiallyComparableAdvisorHolder), with their JNDI bean factory (denied by package)
            "org.springframework.aop.support.AbstractBeanFactoryPointcutAdvisor",
            "org.springframework.aop.target.HotSwappableTargetSource",
            "org.springframework.aop.config.MethodLocatingFactoryBean",
            // toString/equals triggers used by the Hessian and Kryo chains
            "com.sun.org.apache.xpath.internal.objects.XString",
            "org.apache.xpath.objects.XString",
            // marshalsec's ImageIO chain
            "jdk.nashorn.internal.objects.NativeString",
            "com.sun.xml.internal.bind.v2.runtime.unmarshaller.Base64Data",
            "javax.crypto.CipherInputStream",
            "javax.crypto.NullCipher",
            "javax.imageio.spi.FilterIterator",
            // commons-collections: any transformer runs code on get/compare
            "org.apache.commons.collections.Transformer",
            "org.apache.commons.collections4.Transformer",
            "org.apache.commons.beanutils2.BeanComparator",
            // ysoserial Hibernate1/2
            "org.hibernate.property.access.spi.GetterMethodImpl",
            "org.hibernate.property.BasicPropertyAccessor$BasicGetter");

    /**
     * Package (and sub-package) prefixes, ending with a dot; an entry without the dot is a class
     * and its nested classes.
     */
    private static final List<String> PACKAGES = List.of(
            "org.apache.commons.collections.functors.",
            "org.apache.commons.collections4.functors.",
            "org.apache.commons.collections.keyvalue.TiedMapEntry",
            "org.apache.commons.collections4.keyvalue.TiedMapEntry",
            "org.apache.commons.collections.map.LazyMap",
            "org.apache.commons.collections4.map.LazyMap",
            "org.codehaus.groovy.runtime.",
            "groovy.lang.",
            "org.springframework.beans.factory.config.",
            "org.apache.xalan.",
            "com.sun.org.apache.xalan.",
            "com.sun.org.apache.bcel.internal.util.ClassLoader",
            "org.apache.bcel.util.ClassLoader",
            "com.sun.jndi.",
            "javax.naming.",
            "java.rmi.",
            "sun.rmi.",
            "javax.management.",
            "sun.misc.Unsafe",
            "jdk.internal.",
            "java.lang.ProcessBuilder",
            "java.lang.Runtime",
            "java.net.URLClassLoader",
            "java.beans.EventHandler",
            "javax.imageio.ImageIO",
            "org.mozilla.javascript.",
            "org.python.",
            "bsh.",
            "clojure.",
            "com.mchange.v2.c3p0.",
            "org.apache.myfaces.",
            "org.jboss.interceptor.",
            "org.jboss.weld.interceptor.",
            "com.sun.syndication.",
            "com.rometools.rome.feed.impl.",
            "org.apache.commons.beanutils.BeanComparator",
            "org.hibernate.engine.spi.TypedValue",
            "com.sun.rowset.",
            "org.apache.wicket.util.upload.",
            "org.apache.commons.fileupload.",
            "org.apache.ibatis.datasource.",
            "org.apache.commons.jxpath.",
            "org.springframework.jndi.",
            "org.springframework.aop.aspectj.",
            "org.apache.xbean.naming.",
            "com.caucho.naming.",
            "com.caucho.hessian.",
            "javax.swing.UIDefaults",
            "sun.swing.SwingLazyValue",
            "java.util.ServiceLoader",
            "sun.misc.Service",
            "com.sun.xml.internal.ws.encoding.xml.XMLMessage",
            "javax.imageio.spi.ServiceRegistry",
            "jdk.nashorn.",
            "org.openjdk.nashorn.",
            "org.apache.commons.collections.comparators.TransformingComparator",
            "org.apache.commons.collections4.comparators.TransformingComparator",
            "org.apache.commons.collections.map.TransformedMap",
            "org.apache.commons.collections4.map.TransformedMap");

    private GadgetDenyList() {
    }

    /** Decisions per class, kept with the class itself (no reference that would pin a webapp). */
    private static final ClassValue<Boolean> DENIED = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            for (Class<?> c = type; c != null; c = c.getSuperclass()) {
                if (deniedName(c.getName()) || deniedInterface(c)) {
                    return true;
                }
            }
            return false;
        }
    };

    /**
     * Whether {@code type}, one of its superclasses or one of its listed interfaces is, or lies
     * in a package of, a known gadget chain.
     */
    static boolean denies(Class<?> type) {
        return DENIED.get(type);
    }

    private static boolean deniedInterface(Class<?> type) {
        for (Class<?> implemented : type.getInterfaces()) {
            if (CLASSES.contains(implemented.getName()) || deniedInterface(implemented)) {
                return true;
            }
        }
        return false;
    }

    private static boolean deniedName(String name) {
        if (CLASSES.contains(name)) {
            return true;
        }
        for (String prefix : PACKAGES) {
            if (name.startsWith(prefix) && (prefix.endsWith(".") || name.length() == prefix.length()
                    || name.charAt(prefix.length()) == '$')) {
                return true;
            }
        }
        return false;
    }
}
