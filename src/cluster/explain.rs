//! The identity graph of one identity (petgraph) and why each record
//! belongs to it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use petgraph::graph::{NodeIndex, UnGraph};
use petgraph::visit::EdgeRef;
use serde::{Deserialize, Serialize};

use super::Clusters;
use crate::block::BlockingRule;
use crate::error::{ErrorKind, Result};
use crate::normalize::IdKind;
use crate::record::{Dataset, ID_SLOTS, RecordId, RecordIx};

/// A node of an identity graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "node")]
pub enum GraphNode {
    /// A record.
    Record {
        /// Its index.
        record: RecordIx,
    },
    /// An identifier value held by records of the identity.
    Value {
        /// Its type.
        kind: IdKind,
        /// Its interned ID ([`Dataset::value_text`] prints it).
        value: u32,
    },
}

/// An edge of an identity graph.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "edge")]
pub enum GraphEdge {
    /// A link between two records: the evidence that joined them.
    Link {
        /// Match probability (1 for a trusted key).
        probability: f32,
        /// The rule that found the pair (`None` for a trusted key).
        rule: Option<BlockingRule>,
        /// The later of the two records' last-seen times.
        seen: Option<i64>,
    },
    /// A record holds a value.
    Holds,
}

/// One step of a membership path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// From this record…
    pub from: RecordId,
    /// …to this one.
    pub to: RecordId,
    /// The link's probability.
    pub probability: f32,
    /// The rule that found the pair (`None` for a trusted key).
    pub rule: Option<BlockingRule>,
    /// The later of the two records' last-seen times.
    pub seen: Option<i64>,
}

/// Why one record belongs to its identity: the most probable chain of links
/// from the identity's anchor record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    /// The record.
    pub record: RecordId,
    /// Its source system.
    pub source: String,
    /// The links from the anchor to it (empty for the anchor).
    pub path: Vec<Step>,
    /// The product of the path's probabilities.
    pub strength: f64,
}

/// Why an identity holds the records it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityExplanation {
    /// The identity.
    pub identity: u32,
    /// The record paths start from (the identity's first record by ID).
    pub anchor: RecordId,
    /// One entry per record, in record order.
    pub members: Vec<Membership>,
}

impl Clusters {
    /// The identity graph of one identity: its records, the identifier
    /// values they hold, the links between records and the `Holds` edges.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for an identity that
    /// does not exist.
    pub fn identity_graph(
        &self,
        ds: &Dataset,
        identity: u32,
    ) -> Result<UnGraph<GraphNode, GraphEdge>> {
        let members = self.records_of(identity)?;
        let mut g = UnGraph::new_undirected();
        let mut index: rustc_hash::FxHashMap<GraphNode, NodeIndex> =
            rustc_hash::FxHashMap::default();
        let mut node = |g: &mut UnGraph<GraphNode, GraphEdge>, n: GraphNode| {
            *index.entry(n).or_insert_with(|| g.add_node(n))
        };
        for &r in &members {
            let rn = node(&mut g, GraphNode::Record { record: r });
            for (s, kind) in ID_SLOTS.iter().enumerate() {
                for &v in ds.slot_values(r, s) {
                    let vn = node(
                        &mut g,
                        GraphNode::Value {
                            kind: *kind,
                            value: v,
                        },
                    );
                    g.add_edge(rn, vn, GraphEdge::Holds);
                }
            }
        }
        for l in self.links_of(identity) {
            let (a, b) = (
                node(&mut g, GraphNode::Record { record: l.a }),
                node(&mut g, GraphNode::Record { record: l.b }),
            );
            let last_seen = |r: u32| {
                ds.seen
                    .get(r as usize)
                    .map(|s| s[1])
                    .filter(|&t| t != crate::record::UNSEEN)
            };
            let seen = last_seen(l.a).max(last_seen(l.b));
            g.add_edge(
                a,
                b,
                GraphEdge::Link {
                    probability: l.probability,
                    rule: l.rule,
                    seen,
                },
            );
        }
        Ok(g)
    }

    /// Explains an identity: for each record, the most probable chain of
    /// links from the anchor (serialisable).
    ///
    /// # Errors
    /// As [`Clusters::identity_graph`].
    ///
    /// # Example
    /// ```
    /// use idstitch::{BlockingConfig, Candidates, ClusterConfig, Clusters, Comparator, CompareConfig, Dataset, Model, Record};
    ///
    /// let ds = Dataset::build(vec![
    ///     Record::new("crm:1", "crm").phone("+79123456789").email("anna@mail.ru"),
    ///     Record::new("tg:1", "telegram").phone("89123456789"),
    ///     Record::new("mail:1", "email").email("Anna@Mail.ru"),
    /// ])?;
    /// let cands = Candidates::find(&ds, &BlockingConfig::new())?;
    /// let cmp = Comparator::new(&ds, cands.generic(), CompareConfig::new())?;
    /// let scored = Model::default().score(&cmp, &cands)?;
    /// let clusters = Clusters::build(&ds, &scored, cands.rules(), cands.generic(), &ClusterConfig::new())?;
    /// let why = clusters.explain(&ds, 0)?;
    /// assert_eq!(why.anchor.as_str(), "crm:1");
    /// let tg = why.members.iter().find(|m| m.record.as_str() == "tg:1").unwrap();
    /// assert_eq!(tg.path.len(), 1);
    /// assert!(serde_json::to_string(&why).unwrap().contains("\"rule\":\"phone\""));
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    pub fn explain(&self, ds: &Dataset, identity: u32) -> Result<IdentityExplanation> {
        let g = self.identity_graph(ds, identity)?;
        let members = self.records_of(identity)?;
        let anchor = members[0];
        // Record → node, built once (looking each record up by scanning the
        // nodes would be quadratic in the identity's size).
        let nodes: rustc_hash::FxHashMap<RecordIx, NodeIndex> = g
            .node_indices()
            .filter_map(|i| match g[i] {
                GraphNode::Record { record } => Some((record, i)),
                GraphNode::Value { .. } => None,
            })
            .collect();
        let record_node = |r: RecordIx| nodes.get(&r).copied();
        let Some(start) = record_node(anchor) else {
            return Err(ErrorKind::RecordIndex {
                index: anchor,
                len: ds.len(),
            }
            .into());
        };
        // Dijkstra over record–record links with cost −ln p.
        let mut cost = vec![f64::INFINITY; g.node_count()];
        let mut prev: Vec<Option<(NodeIndex, usize)>> = vec![None; g.node_count()];
        let mut heap = BinaryHeap::new();
        cost[start.index()] = 0.0;
        heap.push(Reverse((Ordered(0.0), start.index())));
        while let Some(Reverse((Ordered(c), v))) = heap.pop() {
            if c > cost[v] {
                continue;
            }
            for e in g.edges(NodeIndex::new(v)) {
                let GraphEdge::Link { probability, .. } = *e.weight() else {
                    continue;
                };
                let w = if e.source().index() == v {
                    e.target()
                } else {
                    e.source()
                };
                let next = c - f64::from(probability).max(1e-12).ln();
                if next < cost[w.index()] {
                    cost[w.index()] = next;
                    prev[w.index()] = Some((NodeIndex::new(v), e.id().index()));
                    heap.push(Reverse((Ordered(next), w.index())));
                }
            }
        }
        let id = |r: RecordIx| ds.ids[r as usize].clone();
        let mut out = Vec::with_capacity(members.len());
        for &r in &members {
            let mut path = Vec::new();
            if let Some(mut at) = record_node(r) {
                while let Some((from, e)) = prev[at.index()] {
                    let edge = petgraph::graph::EdgeIndex::new(e);
                    if let (
                        GraphNode::Record { record: fr },
                        GraphNode::Record { record: tr },
                        Some(GraphEdge::Link {
                            probability,
                            rule,
                            seen,
                        }),
                    ) = (g[from], g[at], g.edge_weight(edge).copied())
                    {
                        path.push(Step {
                            from: id(fr),
                            to: id(tr),
                            probability,
                            rule,
                            seen,
                        });
                    }
                    at = from;
                }
            }
            path.reverse();
            let strength = path.iter().map(|s| f64::from(s.probability)).product();
            let source = ds.source_of(r).to_owned();
            out.push(Membership {
                record: id(r),
                source,
                path,
                strength,
            });
        }
        Ok(IdentityExplanation {
            identity,
            anchor: id(anchor),
            members: out,
        })
    }

    fn records_of(&self, identity: u32) -> Result<Vec<RecordIx>> {
        // Record indices fit u32 (the dataset's invariant).
        let members: Vec<RecordIx> = (0..self.labels.len() as u32)
            .filter(|&r| self.labels[r as usize] == identity)
            .collect();
        if members.is_empty() {
            return Err(crate::Error::config("identity", "no such identity"));
        }
        Ok(members)
    }

    fn links_of(&self, identity: u32) -> &[super::Link] {
        let lo = self
            .links
            .partition_point(|l| self.labels[l.a as usize] < identity);
        let hi = self
            .links
            .partition_point(|l| self.labels[l.a as usize] <= identity);
        &self.links[lo..hi]
    }
}

/// `f64` ordered by `total_cmp`, for the heap.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ordered(f64);

impl Eq for Ordered {}

impl PartialOrd for Ordered {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ordered {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}
