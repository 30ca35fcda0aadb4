import { createHash } from 'node:crypto';
import { EMPTY_ROOT, InclusionVerifier, MerkleLog, leafHash, nodeHash, verifyConsistency, verifyInclusion } from './merkle';

const sha256 = (hex: string): Buffer => createHash('sha256').update(Buffer.from(hex, 'hex')).digest();
const leaves = (count: number): Buffer[] => Array.from({ length: count }, (_, i) => leafHash(Buffer.from(`record ${i}`)));
const logOf = (hashes: readonly Buffer[]): MerkleLog => {
  const log = new MerkleLog();
  hashes.forEach((hash) => log.append(hash));
  return log;
};

describe('RFC 9162 hashing', () => {
  it('given the empty tree, then its root is SHA-256 of the empty string', () => {
    expect(new MerkleLog().root().toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(EMPTY_ROOT.equals(new MerkleLog().root(0))).toBe(true);
  });

  it('given leaf data, then the leaf hash is SHA-256(0x00 || data) and a node SHA-256(0x01 || left || right)', () => {
    expect(leafHash(Buffer.from('')).equals(sha256('00'))).toBe(true);
    expect(leafHash(Buffer.from([0xab])).equals(sha256('00ab'))).toBe(true);
    const [a, b] = leaves(2) as [Buffer, Buffer];
    expect(nodeHash(a, b).equals(sha256(`01${a.toString('hex')}${b.toString('hex')}`))).toBe(true);
    // Domain separation: a leaf over the bytes of two hashes is not the node over them.
    expect(leafHash(Buffer.concat([a, b])).equals(nodeHash(a, b))).toBe(false);
  });

  it('given the RFC 6962 test vector leaves, then the roots are the published ones', () => {
    // The eight leaves of the Certificate Transparency reference tests (certificate-transparency-go, merkle tests).
    const data = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
    const roots = [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
      'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
      '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
      'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    ];
    const log = logOf(data.map((hex) => leafHash(Buffer.from(hex, 'hex'))));
    roots.forEach((root, i) => expect(log.root(i + 1).toString('hex')).toBe(root));
  });

  it('given a tree, when proving each leaf at each size, then every inclusion proof verifies and no proof verifies another leaf or index', () => {
    const hashes = leaves(21);
    const log = logOf(hashes);
    for (let size = 1; size <= hashes.length; size += 1) {
      const root = log.root(size);
      for (let index = 0; index < size; index += 1) {
        const proof = log.inclusionProof(index, size);
        expect(verifyInclusion(hashes[index]!, index, size, proof, root)).toBe(true);
        expect(verifyInclusion(hashes[(index + 1) % hashes.length]!, index, size, proof, root)).toBe(false);
        if (size > 1) expect(verifyInclusion(hashes[index]!, (index + 1) % size, size, proof, root)).toBe(false);
        expect(verifyInclusion(hashes[index]!, index, size, [...proof, root], root)).toBe(false);
      }
    }
    expect(verifyInclusion(hashes[0]!, 1, 1, [], hashes[0]!)).toBe(false);
  });

  it('given a tree, when proving consistency between each pair of sizes, then the proof verifies, and not for a forked older tree', () => {
    const hashes = leaves(19);
    const log = logOf(hashes);
    for (let newSize = 1; newSize <= hashes.length; newSize += 1) {
      for (let oldSize = 0; oldSize <= newSize; oldSize += 1) {
        const proof = log.consistencyProof(oldSize, newSize);
        expect(verifyConsistency(oldSize, newSize, log.root(oldSize), log.root(newSize), proof)).toBe(true);
        if (oldSize > 0 && oldSize < newSize) {
          const fork = logOf([...hashes.slice(0, oldSize - 1), leafHash(Buffer.from('forged'))]);
          expect(verifyConsistency(oldSize, newSize, fork.root(), log.root(newSize), proof)).toBe(false);
          expect(verifyConsistency(oldSize, newSize, log.root(oldSize), log.root(newSize), proof.slice(1))).toBe(false);
        }
      }
    }
    expect(verifyConsistency(5, 4, log.root(5), log.root(4), [])).toBe(false);
  });

  it('given consecutive and random leaves, some with a tampered proof, then the path-remembering verifier agrees with verifyInclusion on every one', () => {
    const hashes = leaves(300);
    const log = logOf(hashes);
    let state = 42;
    const random = (below: number): number => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % below;
    };
    for (const size of [1, 2, 3, 7, 8, 9, 64, 100, 255, 256, 257, 300]) {
      const root = log.root(size);
      const verifier = new InclusionVerifier(size, root);
      const indices = [...Array.from({ length: size }, (_, i) => i), ...Array.from({ length: 200 }, () => random(size))];
      for (const index of indices) {
        const proof = log.inclusionProof(index, size);
        const tampered = [...proof];
        if (tampered.length > 0 && random(4) === 0) tampered[random(tampered.length)] = leafHash(Buffer.from(`x${index}`));
        const leaf = random(10) === 0 ? hashes[(index + 1) % hashes.length]! : hashes[index]!;
        expect(verifier.verify(leaf, index, tampered)).toBe(verifyInclusion(leaf, index, size, tampered, root));
      }
    }
  });

  it('given bad arguments, then the tree refuses them', () => {
    const log = logOf(leaves(3));
    expect(() => log.root(4)).toThrow(RangeError);
    expect(() => log.inclusionProof(3, 3)).toThrow(RangeError);
    expect(() => log.consistencyProof(4, 3)).toThrow(RangeError);
    expect(() => log.append(Buffer.alloc(31))).toThrow('leaf hash: 31 bytes, expected 32');
  });
});
