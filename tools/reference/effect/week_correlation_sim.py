#!/usr/bin/env python3
"""Simulations behind docs/effects.md, "Correlated weeks": why a volume's weekly quasi-likelihood
variance with independent weeks calls too many null changes significant when days carry shocks
that last a few days (the generator's day noise: a topic's daily rate times exp(0.25 z - 0.03),
z an AR(1) 0.5 from day to day, half of it common to the topics), and what the alternatives give.
Each part is seeded; the figures quoted in the docs are what this prints.

- independent_weeks: the engine's method until 2026-12-05 (quasi-Poisson on 8 weekly totals,
  Student t on 6 df), before/after and DiD against 5 series sharing the common half;
- fortnights: the same on 4 two-week blocks;
- daily_hac: a bias-corrected Bartlett / uniform kernel HAC on the 56 days with weekday x window
  means, Satterthwaite (Bell-McCaffrey) degrees of freedom;
- weekly_lag1_df: the degrees of freedom of a bias-corrected lag-1 HAC on 8 weeks;
- pooled: the correlation of adjacent weeks pooled over 20 series (the engine's method since
  2026-12-05), clamped to [0, 0.5] and, for comparison, allowed down to -0.5.

Run: python3 tools/reference/effect/week_correlation_sim.py (uses the effect reference's
virtualenv, made by make_reference.py; several minutes).
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = HERE.parent / ".venv-effect" / "bin" / "python"
if Path(sys.prefix).resolve() != (HERE.parent / ".venv-effect").resolve():
    if not PY.exists():
        sys.exit("run tools/reference/effect/make_reference.py first: it makes the virtualenv")
    os.execv(str(PY), [str(PY), __file__, *sys.argv[1:]])

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402


def weekly_lag1_df():
    rng=np.random.default_rng(1)
    W=8; wb=4
    X=np.zeros((W,2)); X[:wb,0]=1; X[wb:,1]=1
    M=np.eye(W)-X@np.linalg.pinv(X)
    a=np.r_[-np.ones(wb)/wb, np.ones(W-wb)/wb]   # contrast of means
    def hacA(L):
        A=np.zeros((W,W))
        for t in range(W):
            for s in range(W):
                if abs(t-s)<=L: A[t,s]=a[t]*a[s]
        return A
    res={}
    for L in [0,1]:
        A=hacA(L); MAM=M@A@M
        c=(a@a)/np.trace(MAM); df=np.trace(MAM)**2/np.trace(MAM@MAM)
        res[L]=(A,c,df)
        print("L",L,"scale",c,"df",df)


def independent_weeks():
    rng=np.random.default_rng(5)
    W,wb=8,4; days=W*7
    n=20000; sd=.25; rho=.5
    def ar(n,T):
        z=np.empty((n,T)); z[:,0]=rng.normal(size=n)
        for d in range(1,T): z[:,d]=rho*z[:,d-1]+np.sqrt(1-rho*rho)*rng.normal(size=n)
        return z
    def quasi(y):
        mb=y[:,:wb].mean(1); ma=y[:,wb:].mean(1)
        d=np.log(ma/mb)
        mus=np.c_[np.repeat(mb[:,None],wb,1),np.repeat(ma[:,None],W-wb,1)]
        phi=((y-mus)**2/mus).sum(1)/(W-2)
        v=phi*(1/y[:,:wb].sum(1)+1/y[:,wb:].sum(1))
        return d, v
    mu=47
    common=ar(n,days+200)[:,200:]
    def series():
        z=np.sqrt(.5)*ar(n,days+200)[:,200:]+np.sqrt(.5)*common
        m=np.exp(sd*z-sd*sd/2)
        return rng.poisson(mu*m).reshape(n,W,7).sum(2).astype(float)
    T=series()
    d,v=quasi(T); crit=stats.t.ppf(.95,W-2)
    print("BA rate",(abs(d)/np.sqrt(v)>crit).mean(), "true var/mean est", d.var()/v.mean())
    C=sum(series() for _ in range(5))
    # DiD quasi-binomial
    tb,ta=T[:,:wb].sum(1),T[:,wb:].sum(1); cb,ca=C[:,:wb].sum(1),C[:,wb:].sum(1)
    p0=tb/(tb+cb); p1=ta/(ta+ca)
    N=T+C; P=np.c_[np.repeat(p0[:,None],wb,1),np.repeat(p1[:,None],W-wb,1)]
    pear=((T-N*P)**2/(N*P*(1-P))).sum(1)
    dd=np.log(ta/ca)-np.log(tb/cb)
    vu=1/((tb+cb)*p0*(1-p0))+1/((ta+ca)*p1*(1-p1))
    vv=pear/(W-2)*vu
    print("DiD rate",(abs(dd)/np.sqrt(vv)>crit).mean(),"ratio",dd.var()/vv.mean())

def daily_hac():
    rng=np.random.default_rng(7)
    W,wb=8,4; D=W*7; db=wb*7
    sd=.25; rho=.5
    wk=np.tile(np.array([1.2,1.1,1.0,1.0,1.1,.5,.4]),W); wk/=wk.mean()
    win=(np.arange(D)>=db).astype(int)
    def ar(n,T):
        z=np.empty((n,T)); z[:,0]=rng.normal(size=n)
        for d in range(1,T): z[:,d]=rho*z[:,d-1]+np.sqrt(1-rho*rho)*rng.normal(size=n)
        return z[:,50:]
    def Kmat(L,kern):
        k=np.abs(np.subtract.outer(np.arange(D),np.arange(D))).astype(float)
        if kern=='b': return np.where(k<=L,1-k/(L+1),0.)
        return np.where(k<=L,1.,0.)
    # BA projection: window x weekday cell means
    cell=win*7+np.arange(D)%7
    P=(cell[:,None]==cell[None,:]).astype(float); P/=P.sum(1,keepdims=True)
    M=np.eye(D)-P
    def hac_ba(y,L,kern):
        K=Kmat(L,kern)
        T=np.array([y[win==0].sum(),y[win==1].sum()])
        a=np.where(win==1,1.,-1.)/T[win]
        u=a*(M@y)
        yhat=P@y
        v0=yhat  # working variance
        B=M.T@np.diag(a)@K@np.diag(a)@M
        BS=B*v0[None,:]
        tr=np.trace(BS); c=(a*a*v0).sum()/tr
        df=tr*tr/np.trace(BS@BS)
        return np.log(T[1]/T[0]), c*(u@K@u), df
    def series(n,mu,common):
        z=np.sqrt(.5)*ar(n,D+50)+np.sqrt(.5)*common
        return rng.poisson(mu*wk*np.exp(sd*z-sd*sd/2)).astype(float)
    n=3000; mu=47
    common=ar(n,D+50)
    Y=series(n,mu,common)
    Y0=rng.poisson(mu*wk*np.ones((n,D))).astype(float)
    for L,kern in [(7,'b'),(14,'b'),(6,'u')]:
        for name,YY in [('noise',Y),('poisson',Y0)]:
            r=[];z=[];dfs=[]
            for i in range(n):
                d,v,df=hac_ba(YY[i],L,kern)
                if v<=0: r.append(0); continue
                r.append(abs(d)/np.sqrt(v)>stats.t.ppf(.95,df)); dfs.append(df)
            print(L,kern,name,"BA rate %.3f"%np.mean(r),"df %.1f"%np.mean(dfs))

def fortnights():
    rng=np.random.default_rng(9)
    sd=.25; rho=.5; D=56
    def ar(n,T):
        z=np.empty((n,T)); z[:,0]=rng.normal(size=n)
        for d in range(1,T): z[:,d]=rho*z[:,d-1]+np.sqrt(1-rho*rho)*rng.normal(size=n)
        return z[:,50:]
    def quasi(y,W):
        wb=W//2
        mb=y[:,:wb].mean(1); ma=y[:,wb:].mean(1)
        d=np.log(ma/mb)
        mus=np.c_[np.repeat(mb[:,None],wb,1),np.repeat(ma[:,None],W-wb,1)]
        phi=((y-mus)**2/mus).sum(1)/(W-2)
        v=phi*(1/y[:,:wb].sum(1)+1/y[:,wb:].sum(1))
        return d,v
    n=20000; mu=47
    common=ar(n,D+50)
    def series(noise=True):
        z=np.sqrt(.5)*ar(n,D+50)+np.sqrt(.5)*common
        m=np.exp(sd*z-sd*sd/2) if noise else 1.0
        return rng.poisson(mu*m*np.ones((n,D))).astype(float)
    for noise in [True,False]:
        Y=series(noise)
        for blk in [7,14]:
            W=D//blk
            y=Y.reshape(n,W,blk).sum(2)
            d,v=quasi(y,W); crit=stats.t.ppf(.95,W-2)
            print("noise",noise,"block",blk,"rate %.3f"%(abs(d)/np.sqrt(v)>crit).mean(),"mean half-width %.4f"%(crit*np.sqrt(v)).mean())

def pooled(LO):
    rng=np.random.default_rng(11)
    sd=.25; rho=.5; W=8; wb=4; D=56
    def ar(n,T):
        z=np.empty((n,T)); z[:,0]=rng.normal(size=n)
        for d in range(1,T): z[:,d]=rho*z[:,d-1]+np.sqrt(1-rho*rho)*rng.normal(size=n)
        return z[:,50:]
    win=(np.arange(W)>=wb).astype(int)
    X=np.c_[1-win,win].astype(float)
    M=np.eye(W)-X@np.linalg.pinv(X)
    J=np.zeros((W,W))
    for t in range(W-1): J[t,t+1]=J[t+1,t]=.5
    a0,b0=np.trace(M),np.trace(M@(2*J))
    a1,b1=np.trace(M@J@M),np.trace(M@J@M@(2*J))
    def R(r): return np.eye(W)+2*r*J
    n=4000; G=20
    for noise in [True,False]:
        common=ar(n,D+50)
        Y=np.empty((n,G,W))
        mus=rng.uniform(10,80,size=G)
        for g in range(G):
            z=np.sqrt(.5)*ar(n,D+50)+np.sqrt(.5)*common
            m=np.exp(sd*z-sd*sd/2) if noise else 1.0
            Y[:,g,:]=rng.poisson(mus[g]*m*np.ones((n,D))).reshape(n,W,7).sum(2)
        means=np.stack([Y[:,:,:wb].mean(2),Y[:,:,wb:].mean(2)],2)  # n,G,2
        mu=means[:,:,win]
        r=(Y-mu)/np.sqrt(mu)
        S0=(r*r).sum((1,2)); S1=(r[:,:,:-1]*r[:,:,1:]).sum((1,2))
        q=S1/S0
        rh=np.clip((q*a0-a1)/(b1-q*b0),LO,.5)
        rej=0; rej0=0; zs=[]
        y=Y[:,0,:]; tb=y[:,:wb].sum(1); ta=y[:,wb:].sum(1)
        d=np.log(ta/tb)
        X2=(r[:,0,:]**2).sum(1)
        for i in range(n):
            Rm=R(rh[i]); tr=np.trace(M@Rm); df=tr*tr/np.trace(M@Rm@M@Rm)
            phi=X2[i]/tr
            g=np.where(win==1,1/ta[i],-1/tb[i])*np.sqrt(mu[i,0])
            v=phi*g@Rm@g
            rej+= abs(d[i])/np.sqrt(v)>stats.t.ppf(.95,df)
            v0=X2[i]/(W-2)*(1/ta[i]+1/tb[i])
            rej0+= abs(d[i])/np.sqrt(v0)>stats.t.ppf(.95,W-2)
        print("noise",noise,"pooled-rho rate %.3f"%(rej/n),"weekly %.3f"%(rej0/n),"mean rho %.3f"%rh.mean(), "sd rho %.3f"%rh.std())


if __name__ == "__main__":
    print("== weekly lag-1 HAC: scale and degrees of freedom")
    weekly_lag1_df()
    print("== independent weeks")
    independent_weeks()
    print("== two-week blocks")
    fortnights()
    print("== daily HAC")
    daily_hac()
    print("== pooled correlation, clamped to [0, 0.5]")
    pooled(0.0)
    print("== pooled correlation, allowed down to -0.5")
    pooled(-0.5)
