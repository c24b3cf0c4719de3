import com.sun.tools.attach.VirtualMachine;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * kconform: prints one MBean attribute of a JVM on this machine, reached through the Attach API's local
 * management agent, so no JMX port is opened. Arguments: pid, object name, attribute.
 */
public class ReadMBean {
    public static void main(String[] args) throws Exception {
        VirtualMachine vm = VirtualMachine.attach(args[0]);
        try {
            JMXServiceURL url = new JMXServiceURL(vm.startLocalManagementAgent());
            try (JMXConnector connector = JMXConnectorFactory.connect(url)) {
                MBeanServerConnection server = connector.getMBeanServerConnection();
                System.out.println(server.getAttribute(new ObjectName(args[1]), args[2]));
            }
        } finally {
            vm.detach();
        }
    }
}
