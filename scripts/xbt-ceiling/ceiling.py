# Ceiling of new->old text->image retrieval for a model pair: recalls of oracle query maps (ridge / MLP-InfoNCE,
# fitted on the train pairs or, as a cheating bound, on the test pairs) against the OLD image gallery, as gap closed.
# Usage: /usr/bin/python3 scripts/xbt-ceiling/ceiling.py DUMP_DIR [OLD_DIM] [--mlp]   (DUMP_DIR from DumpEmbeddings.java)
import numpy as np, sys, json
D=sys.argv[1]; dold=int(sys.argv[2]) if len(sys.argv)>2 else 64; mlp='--mlp' in sys.argv
def ld(s,k,d): return np.fromfile(f'{D}/{s}_{k}.f32',dtype='<f4').reshape(-1,d).astype(np.float64)
def L(s): return dict(oi=ld(s,'old_img',dold),ot=ld(s,'old_txt',dold),ni=ld(s,'new_img',128),nt=ld(s,'new_txt',128),own=np.fromfile(f'{D}/{s}_owner.i32',dtype='<i4'))
tr,te=L('train'),L('test')
def nrm(x): return x/np.linalg.norm(x,axis=1,keepdims=True)
def t2i(q,g,own):
    s=nrm(q)@g.T; r=(s>s[np.arange(len(own)),own][:,None]).sum(1); return np.array([(r<k).mean()*100 for k in (1,5,10)])
def i2t(q,g,own):
    s=nrm(q)@g.T; r=np.array([(s[i]>s[i][own==i].max()).sum() for i in range(len(q))]); return np.array([(r<k).mean()*100 for k in (1,5,10)])
oo=np.r_[i2t(te['oi'],te['ot'],te['own']),t2i(te['ot'],te['oi'],te['own'])]
nn=np.r_[i2t(te['ni'],te['nt'],te['own']),t2i(te['nt'],te['ni'],te['own'])]
print('old/old',oo.round(1),'\nnew/new',nn.round(1))
def rep(name,qi,qt):
    r=np.r_[i2t(qi,te['ot'],te['own']) if qi is not None else [np.nan]*3, t2i(qt,te['oi'],te['own'])]
    print(f'{name:46s}',r.round(1),'gap',((r-oo)/(nn-oo)).round(2))
def ridge(X,Y,lam=1e-2): return np.linalg.solve(X.T@X+lam*np.eye(X.shape[1]),X.T@Y)
W=ridge(tr['nt'],tr['ot']); rep('ridge new->old text (train), both',te['ni']@W,te['nt']@W)
W=ridge(tr['nt'],tr['oi'][tr['own']]); rep('ridge newtxt->oldimg (train)',None,te['nt']@W)
W=ridge(te['nt'],te['oi'][te['own']]); rep('ridge newtxt->oldimg (TEST, cheat)',None,te['nt']@W)
W=ridge(tr['ni'][tr['own']],tr['ot']); rep('ridge newimg->oldtxt (train)',te['ni']@W,te['nt']@ridge(tr['nt'],tr['ot']))
if mlp:
    import torch, torch.nn as tnn, torch.nn.functional as F
    torch.manual_seed(0); torch.set_num_threads(2)
    def fit(X,Y,own,steps=1000,tau=0.05,hid=256):
        X=torch.tensor(X,dtype=torch.float32); Y=torch.tensor(Y,dtype=torch.float32); O=torch.tensor(own)
        net=tnn.Sequential(tnn.Linear(X.shape[1],hid),tnn.GELU(),tnn.Linear(hid,Y.shape[1])); lin=tnn.Linear(X.shape[1],Y.shape[1],bias=False)
        opt=torch.optim.AdamW(list(net.parameters())+list(lin.parameters()),lr=2e-3,weight_decay=0)
        f=lambda x: F.normalize(net(x)+lin(x),dim=1)
        for s in range(steps):
            i=torch.randint(0,len(X),(256,)); lg=f(X[i])@Y[i].T/tau; same=(O[i][:,None]==O[i][None,:]).float()
            loss=-(F.log_softmax(lg,1)*same/same.sum(1,keepdim=True)).sum(1).mean(); opt.zero_grad(); loss.backward(); opt.step()
        return lambda Z: f(torch.tensor(Z,dtype=torch.float32)).detach().numpy().astype(np.float64)
    g=fit(tr['nt'],tr['oi'][tr['own']],tr['own']); rep('MLP-InfoNCE newtxt->oldimg (train)',None,g(te['nt']))
    g=fit(tr['nt'],tr['ot'],np.arange(len(tr['ot']))); gi=None
    rep('MLP-InfoNCE newtxt->oldtxt (train) ~ stage 1',None,g(te['nt']))
# Paraphrase-denoising oracle: each test caption's query is the mean of the OLD text embeddings of all captions of its
# picture (the picture's caption centroid), i.e. the best a perfectly denoised old text encoder could do as a query.
def centroid(x,own):
    c=np.zeros((own.max()+1,x.shape[1])); np.add.at(c,own,nrm(x)); return c[own]
rep('oracle: old-text caption centroid of the picture',None,centroid(te['ot'],te['own']))
W=ridge(tr['nt'],tr['ot']); rep('ridge new->old text, centroid of mapped captions',None,centroid(te['nt']@W,te['own']))
# Can one caption predict its picture's centroid? ψ-like maps fitted onto the old-text centroid of the caption's picture.
W=ridge(tr['nt'],centroid(tr['ot'],tr['own'])); rep('ridge newtxt->old-text centroid target (train)',None,te['nt']@W)
if mlp: rep('MLP newtxt->oldtxt, centroid of mapped captions',None,centroid(g(te['nt']),te['own']))
print('captions per test picture:',np.bincount(te['own']).mean().round(2))
