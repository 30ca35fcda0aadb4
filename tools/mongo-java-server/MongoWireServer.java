import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/** mongo-java-server's in-memory backend on HOST:PORT until the process is stopped (the library has no main of its own). */
public class MongoWireServer {
  public static void main(String[] args) throws Exception {
    if (args.length != 2) throw new IllegalArgumentException("usage: MongoWireServer HOST PORT");
    MongoServer server = new MongoServer(new MemoryBackend());
    server.bind(args[0], Integer.parseInt(args[1]));
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
    Thread.currentThread().join();
  }
}
