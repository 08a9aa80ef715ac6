// handles.hpp: RAII ownership for every C handle sealpost touches (OpenSSL,
// GMime/GLib). One stateless deleter template; no manual frees on error paths.
#pragma once

#include <memory>

#include <glib-object.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace sealpost {

template <auto F>
struct Free {
    template <class T>
    void operator()(T* p) const noexcept {
        if (p) F(p);
    }
};

using BioPtr = std::unique_ptr<BIO, Free<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, Free<CMS_ContentInfo_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, Free<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Free<X509_STORE_CTX_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Free<GENERAL_NAMES_free>>;

inline void x509_stack_free(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }
using X509StackPtr = std::unique_ptr<STACK_OF(X509), Free<x509_stack_free>>;

// Any GObject (GMimeMessage, GMimeStream, GMimeParser, ...).
template <class T>
using GObjectPtr = std::unique_ptr<T, Free<g_object_unref>>;

// Takes a new reference to a borrowed GObject.
template <class T>
GObjectPtr<T> g_ref(T* p) {
    if (p) g_object_ref(p);
    return GObjectPtr<T>(p);
}

inline void g_free_void(void* p) { g_free(p); }
using GCharPtr = std::unique_ptr<char, Free<g_free_void>>;

// A copy of a certificate that shares nothing with its source.
inline X509Ptr x509_dup(X509* c) { return X509Ptr(c ? X509_dup(c) : nullptr); }
inline X509Ptr x509_ref(X509* c) {
    if (c) X509_up_ref(c);
    return X509Ptr(c);
}

}  // namespace sealpost
