#!/usr/bin/env python3
"""Import circles among the files of a module folder (issue 13).

    scripts/import-cycles.py src/model src/scenario src/stats

A file imports another when it names it by a crate::/super::/self:: path
outside comments and its test module. Prints the strongly connected
components of more than one file; exits 1 when there is one."""
import os,re,sys
# module graph among files in a dir: file -> sibling modules it names
def mods(root):
    files={}
    for dp,_,fs in os.walk(root):
        for f in fs:
            if f.endswith('.rs'):
                p=os.path.join(dp,f)
                m=os.path.relpath(p,os.path.dirname(root))[:-3].replace('/','::')
                files[m]=p
    top=os.path.basename(root)
    if os.path.exists(root+'.rs'): files[top]=root+'.rs'
    return files
def resolve(m, path, names):
    # path like super::x::y or crate::model::x
    parts=path.split('::')
    cur=m.split('::')
    if parts[0]=='crate': base=[]; parts=parts[1:]
    elif parts[0]=='super':
        base=cur[:-1]
        parts=parts[1:]
        while parts and parts[0]=='super': base=base[:-1]; parts=parts[1:]
    elif parts[0]=='self': base=cur; parts=parts[1:]
    else: return None
    full=base+parts
    # longest prefix that is a module
    for k in range(len(full),0,-1):
        c='::'.join(full[:k])
        if c in names: return c
    return None
def graph(root):
    names=mods(root)
    g={m:set() for m in names}
    for m,p in names.items():
        src=open(p).read()
        # strip test modules
        src=re.split(r'#\[cfg\(test\)\]\s*mod tests',src)[0]
        src=re.sub(r'//[^\n]*','',src)
        for mm in re.finditer(r'\b((?:crate|super|self)(?:::\w+)+)',src):
            t=resolve(m,mm.group(1),names)
            if t and t!=m and not t.startswith(m+'::') and not m.startswith(t+'::'):
                g[m].add(t)
            elif t and m.startswith(t+'::') and t!=m:
                g[m].add(t)  # child naming parent file
    return g
def sccs(g):
    idx={};low={};st=[];on=set();res=[];i=[0]
    sys.setrecursionlimit(10000)
    def sc(v):
        idx[v]=low[v]=i[0];i[0]+=1;st.append(v);on.add(v)
        for w in g[v]:
            if w not in idx: sc(w);low[v]=min(low[v],low[w])
            elif w in on: low[v]=min(low[v],idx[w])
        if low[v]==idx[v]:
            c=[]
            while True:
                w=st.pop();on.discard(w);c.append(w)
                if w==v:break
            res.append(c)
    for v in g:
        if v not in idx: sc(v)
    return [c for c in res if len(c)>1]
found=False
for root in sys.argv[1:]:
    g=graph(root)
    cs=sccs(g)
    found=found or bool(cs)
    print(root, 'cycles:', len(cs))
    for c in cs:
        print('  ', sorted(c))
        for v in sorted(c):
            print('     ',v,'->',sorted(x for x in g[v] if x in c))
sys.exit(1 if found else 0)
