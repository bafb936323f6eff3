# The training data of the committed old model (models/shapes-old): every picture of data/shapes-6k with ONE of its
# captions (chosen by a hash of the id), keeping each entry's split, as a folder for `xbt data prepare folder:DIR`.
# Usage: python3 scripts/shapes-one-caption.py data/shapes-6k data/src-1cap
#        ./xbt data prepare folder:data/src-1cap --out data/shapes-6k-1cap --link
import hashlib, json, os, sys
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
link = os.path.join(out, 'images')
if not os.path.islink(link): os.symlink(os.path.relpath(os.path.join(src, 'images'), out), link)
tmp = os.path.join(out, 'captions.jsonl.tmp')
with open(tmp, 'w') as f:
    for line in open(os.path.join(src, 'manifest.jsonl')):
        e = json.loads(line)
        c = e['captions'][int(hashlib.sha256(e['id'].encode()).hexdigest(), 16) % len(e['captions'])]
        f.write(json.dumps({'image': e['image'], 'caption': c, 'split': e['split']}) + '\n')
os.replace(tmp, os.path.join(out, 'captions.jsonl'))
