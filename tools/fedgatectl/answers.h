/* Reading what the gateway answers fedgatectl: the namespaces of a member
 * (a NamespaceList) and what an identity may do in one of them (a
 * SelfSubjectRulesReview), set against the rules every authenticated user
 * holds anyway (discovery, health, version and asking about oneself, as
 * Kubernetes' system:discovery, system:public-info-viewer and
 * system:basic-user roles grant them). */
#ifndef FG_CTL_ANSWERS_H
#define FG_CTL_ANSWERS_H

#include <stddef.h>

/* The names of the items of the NamespaceList JSON (LEN bytes), as a
 * malloc'd array of malloc'd strings in *NAMES. Returns how many, or -1
 * when the text is no NamespaceList (or memory ran out). */
int fg_ctl_namespace_names(const char *json, size_t len, char ***names);
void fg_ctl_names_free(char **names, int n);

/* A SelfSubjectRulesReview JSON answer (LEN bytes): 1 when its status
 * lists a rule beyond the ones every user holds, or says it is incomplete
 * (the rest might be such a rule); 0 when it lists only those; -1 when
 * the text is no review with a status. */
int fg_ctl_review_reaches(const char *json, size_t len);

#endif
