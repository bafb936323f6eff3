# The training data of the committed old model (models/shapes-old): every picture of data/shapes-6k with ONE of its
# captions (chosen by a hash of the id), keeping each entry's split, as a folder for `xbt data prepare folder:DIR`.
# An optional third argument N keeps N captions a picture instead (the hashed one and the N-1 after it, fewer where
# a picture has fewer); N=1 is the committed data set.
# Usage: python3 scripts/shapes-one-caption.py data/shapes-6k data/src-1cap [N]
#        ./xbt data prepare folder:data/src-1cap --out data/shapes-6k-1cap --link
import hashlib, json, os, sys
src, out = sys.argv[1], sys.argv[2]
per_picture = int(sys.argv[3]) if len(sys.argv) > 3 else 1
if per_picture < 1: sys.exit('N must be at least 1')
os.makedirs(out, exist_ok=True)
link = os.path.join(out, 'images')
if not os.path.islink(link): os.symlink(os.path.relpath(os.path.join(src, 'images'), out), link)
tmp = os.path.join(out, 'captions.jsonl.tmp')
with open(tmp, 'w') as f:
    for line in open(os.path.join(src, 'manifest.jsonl')):
        e = json.loads(line)
        caps = e['captions']
        first = int(hashlib.sha256(e['id'].encode()).hexdigest(), 16) % len(caps)
        for j in range(min(per_picture, len(caps))):
            f.write(json.dumps({'image': e['image'], 'caption': caps[(first + j) % len(caps)], 'split': e['split']}) + '\n')
os.replace(tmp, os.path.join(out, 'captions.jsonl'))
