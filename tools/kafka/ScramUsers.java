// Creates, replaces or deletes SCRAM-SHA-512 users on a running broker through the Java Admin client (kafkajs cannot:
// it has no AlterUserScramCredentials). Run with the JDK's single-file launcher on the broker's own jars:
//   java -cp '.cache/kafka/<version>/libs/*' tools/kafka/ScramUsers.java
// Everything comes on stdin, never in arguments (a process's arguments are visible to every local user):
//   the admin client's properties (bootstrap.servers, sasl.jaas.config, ...), a line "---", then one line per change:
//   "upsert<TAB>user<TAB>password" or "delete<TAB>user". Prints only the user names it changed.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

public class ScramUsers {
  private static final int ITERATIONS = 8192;

  public static void main(String[] args) throws Exception {
    BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    StringBuilder clientProperties = new StringBuilder();
    String line;
    while ((line = stdin.readLine()) != null && !line.equals("---")) clientProperties.append(line).append('\n');
    Properties props = new Properties();
    props.load(new StringReader(clientProperties.toString()));
    List<UserScramCredentialAlteration> changes = new ArrayList<>();
    List<String> names = new ArrayList<>();
    while ((line = stdin.readLine()) != null) {
      if (line.isEmpty()) continue;
      String[] fields = line.split("\t", -1);
      if (fields[0].equals("upsert") && fields.length == 3) {
        changes.add(new UserScramCredentialUpsertion(fields[1], new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, ITERATIONS), fields[2]));
      } else if (fields[0].equals("delete") && fields.length == 2) {
        changes.add(new UserScramCredentialDeletion(fields[1], ScramMechanism.SCRAM_SHA_512));
      } else {
        // never echo the line: it may hold a password
        throw new IllegalArgumentException("stdin line " + (names.size() + 1) + " after ---: expected upsert<TAB>user<TAB>password or delete<TAB>user");
      }
      names.add(fields[0] + " " + fields[1]);
    }
    if (changes.isEmpty()) return;
    try (Admin admin = Admin.create(props)) {
      admin.alterUserScramCredentials(changes).all().get();
    }
    for (String name : names) System.out.println(name);
  }
}
