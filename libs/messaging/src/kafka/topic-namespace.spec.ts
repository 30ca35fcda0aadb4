import { TopicNamespace } from './topic-namespace';

describe('TopicNamespace', () => {
  it('given no namespace, when mapping names, then they are the catalogue names', () => {
    const none = new TopicNamespace();
    expect(none.topic('iga.requests.v1')).toBe('iga.requests.v1');
    expect(none.logicalTopic('iga.requests.v1')).toBe('iga.requests.v1');
    expect(none.group('intake')).toBe('intake');
  });

  it('given a namespace, when mapping a topic and back, then the cluster name is prefixed and the logical name restored', () => {
    const ns = new TopicNamespace('e2e-run1');
    expect(ns.topic('iga.requests.v1')).toBe('e2e-run1.iga.requests.v1');
    expect(ns.logicalTopic('e2e-run1.iga.requests.v1')).toBe('iga.requests.v1');
    expect(ns.group('connector-postgres-postgres')).toBe('e2e-run1.connector-postgres-postgres');
  });

  it('given a namespace, when a topic outside it is named, then it is returned unchanged', () => {
    expect(new TopicNamespace('dev').logicalTopic('iga.requests.v1')).toBe('iga.requests.v1');
  });

  it.each(['', 'Dev', 'a.b', '-x', 'a b', 'x'.repeat(49)])('given the namespace %p, then it is rejected with the rule', (name) => {
    expect(() => new TopicNamespace(name)).toThrow(/invalid topic namespace/);
  });
});
